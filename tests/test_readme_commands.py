# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The README's commands as a newcomer types them: `./setup.sh`, then every line of the "## Commands"
block, verbatim, from the checkout, with no project environment variable set (CI runs this on a fresh
clone with ../shared beside it). A command passes when it exits 0 without a traceback; the files the
block promises must exist afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT_VARIABLES = ("OPENVOICE_",)  # none of this project's variables may help a README command
PROMISED_OUTPUTS = ("outputs/target_se.pt", "outputs/cloned.wav", "outputs/speak.wav", "outputs/report/report.md")


def readme_commands() -> list[str]:
    """The command lines of the README's first shell block under "## Commands" (comments dropped)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Commands\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README.md: no ```sh block under ## Commands"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def newcomer_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_VARIABLES)}


def _run(command: str, timeout: float) -> subprocess.CompletedProcess:
    start = time.perf_counter()
    proc = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=newcomer_environment(), capture_output=True, text=True, timeout=timeout
    )
    print(f"{time.perf_counter() - start:6.1f} s  exit {proc.returncode}  {command}")
    return proc


def test_the_block_holds_the_product_commands() -> None:
    commands = readme_commands()
    for needle in ("openvoice clone", "openvoice convert", "openvoice speak", "check_golden", "check_golden --backend ttnn"):
        assert any(needle in c for c in commands), f"the README's command block lost `{needle}`"
    assert not any("OPENVOICE_" in c for c in commands), "a README command must not need a project variable"


def test_readme_commands_run_verbatim() -> None:
    """`./setup.sh` (venv present: it fills the download places from ../shared/data and clones), then the block."""
    assert (ROOT.parent / "shared" / "data").is_dir(), "the README's commands read ../shared/data beside the checkout"
    failures = []
    for command in ["./setup.sh", *readme_commands()]:
        proc = _run(command, timeout=900)
        if proc.returncode != 0 or "Traceback (most recent call last)" in proc.stderr:
            failures.append(f"$ {command}\nexit {proc.returncode}\n{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}")
    assert not failures, "\n\n".join(failures)
    for path in PROMISED_OUTPUTS:
        assert (ROOT / path).is_file(), f"{path} was not written"
