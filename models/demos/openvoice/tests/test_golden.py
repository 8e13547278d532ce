"""Every golden folder in $OPENVOICE_SHARED_DATA/golden, through `tools.check_golden`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from models.demos.openvoice.tools.check_golden import GoldenError, check_folder, main
from tests.shared_data import REPO_ROOT, require_shared_data, shared_data_dir

CLI_FOLDER = "vc_small_tau0"  # the fastest case
# Every golden folder the project ships; a folder that disappears (or appears) must be noticed.
EXPECTED_GOLDEN = {"spec_se_real", "tts_small_b3", "tts_small_en", "vc_small_b2", "vc_small_tau0"}


def _golden_names() -> list[str]:
    root = shared_data_dir()
    if root is None or not (root / "golden").is_dir():
        return ["<no shared data>"]  # the test body skips (or fails in CI) with the reason
    return sorted(p.name for p in (root / "golden").iterdir() if (p / "case.pt").is_file())


@pytest.fixture(scope="module")
def golden_dir() -> Path:
    return require_shared_data() / "golden"


def test_golden_folders_are_exactly_the_expected_set(golden_dir: Path) -> None:
    found = {p.name for p in golden_dir.iterdir() if (p / "case.pt").is_file()}
    assert found == EXPECTED_GOLDEN, f"missing {sorted(EXPECTED_GOLDEN - found)}, unexpected {sorted(found - EXPECTED_GOLDEN)}"
    assert set(_golden_names()) == EXPECTED_GOLDEN  # the parametrisation below covers all of them


@pytest.mark.parametrize("name", _golden_names())
def test_golden_folder(golden_dir: Path, name: str) -> None:
    results = check_folder(golden_dir / name)
    report = "\n".join(r.line() for r in results)
    assert results, f"{name}: no outputs checked"
    assert all(r.passed for r in results), f"outputs out of tolerance:\n{report}"


def test_cli_prints_a_line_per_output(golden_dir: Path) -> None:
    folder = golden_dir / CLI_FOLDER
    outputs = torch.load(folder / "case.pt", weights_only=False)["outputs"]
    proc = subprocess.run(
        [sys.executable, "-m", "models.demos.openvoice.tools.check_golden", str(folder)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(outputs), proc.stdout
    for name in outputs:
        assert any(line.startswith(f"{CLI_FOLDER}/{name} ") and line.endswith("PASS") for line in lines), name


@pytest.fixture
def tampered_case(golden_dir: Path, tmp_path: Path):
    """A copy of the CLI folder whose case.pt the test may edit."""
    folder = tmp_path / CLI_FOLDER
    shutil.copytree(golden_dir / CLI_FOLDER, folder)
    case = torch.load(folder / "case.pt", weights_only=False)

    def save(edit) -> Path:
        edit(case)
        torch.save(case, folder / "case.pt")
        return folder

    return save


def test_perturbed_output_fails(tampered_case, capsys) -> None:
    folder = tampered_case(lambda case: case["outputs"]["z_hat"].add_(1e-3))
    results = {r.name: r for r in check_folder(folder)}
    assert not results["z_hat"].passed and results["z_hat"].max_abs_error > 5e-4
    assert all(r.passed for name, r in results.items() if name != "z_hat")
    assert main([str(folder)]) == 1
    assert f"{CLI_FOLDER}/z_hat " in capsys.readouterr().out


def test_output_not_produced_fails(tampered_case) -> None:
    folder = tampered_case(lambda case: case["outputs"].update(extra=torch.zeros(1)))
    results = {r.name: r for r in check_folder(folder)}
    assert not results["extra"].passed and "not produced" in results["extra"].detail


def test_unknown_kind_is_named(tampered_case) -> None:
    folder = tampered_case(lambda case: case.update(kind="no_such_kind"))
    with pytest.raises(GoldenError, match="'no_such_kind'"):
        check_folder(folder)
    assert main([str(folder)]) == 1


def test_bad_folders_fail_with_a_message(golden_dir: Path, tmp_path: Path, capsys) -> None:
    """A missing folder, a case with no outputs and a broken config.json each fail the command
    with one ERROR line (no traceback), and the good folder beside them still runs."""
    empty = tmp_path / "empty"
    empty.mkdir()
    torch.save({"kind": "voice_conversion", "inputs": {}, "outputs": {}}, empty / "case.pt")
    broken = tmp_path / "broken"
    shutil.copytree(golden_dir / "vc_small_tau0", broken)
    (broken / "config.json").write_text("{not json")
    assert main([str(tmp_path / "missing"), str(empty), str(broken), str(golden_dir / "vc_small_tau0")]) == 1
    out = capsys.readouterr().out
    assert "missing  ERROR" in out and "no such golden folder" in out
    assert "empty  ERROR" in out and "records no outputs" in out
    assert "broken  ERROR" in out and "not valid JSON" in out
    assert "vc_small_tau0/audio" in out and "Traceback" not in out
