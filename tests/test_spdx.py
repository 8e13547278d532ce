# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Every source file carries tt-metal's SPDX header (its CI checks the same on a merge)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = "# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC\n# SPDX-License-Identifier: Apache-2.0\n"


def _sources() -> list[str]:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [f for f in files if f.endswith((".py", ".sh")) or f == ".ci/run" or (Path(f).name.startswith("requirements") and f.endswith((".txt", ".in")))]


def test_every_source_file_starts_with_the_spdx_header() -> None:
    missing = []
    for name in _sources():
        text = (ROOT / name).read_text()
        body = text.split("\n", 1)[1] if text.startswith("#!") else text
        if not body.startswith(HEADER):
            missing.append(name)
    assert len(_sources()) > 100
    assert not missing, f"no SPDX header: {missing}"
