"""Every golden folder in $OPENVOICE_SHARED_DATA/golden, through `tools.check_golden`: the
reference (1e-4 rule) and the TTNN port (`--backend ttnn`: PCC bars, exact integer outputs)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from models.demos.openvoice.tools.check_golden import GoldenError, check_folder, main
from models.demos.openvoice.tt.backend import L1_SMALL_SIZE
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


# ---- TTNN backend ----------------------------------------------------------------------------------
DEVICE = pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)


@DEVICE
@pytest.mark.parametrize("name", _golden_names())
def test_golden_folder_ttnn(device, golden_dir: Path, name: str) -> None:
    """The TTNN port on every golden folder (in process, on the `device` fixture): every output
    at the project's PCC bar, integer outputs (masks, alignment) exactly."""
    results = check_folder(golden_dir / name, backend="ttnn", device=device)
    report = "\n".join(r.line() for r in results)
    assert results, f"{name}: no outputs checked"
    assert all(r.pcc_bar is not None or r.exact for r in results), report  # no 1e-4 rule on TTNN
    assert all(r.passed for r in results), f"outputs below the bar:\n{report}"


def test_cli_ttnn_backend(golden_dir: Path, device_is_mock: bool) -> None:
    """`check_golden --backend ttnn` as a user runs it (it opens the device itself)."""
    folder = golden_dir / CLI_FOLDER
    outputs = torch.load(folder / "case.pt", weights_only=False)["outputs"]
    mode = "mock" if device_is_mock else "real"
    proc = subprocess.run(
        [sys.executable, "-m", "models.demos.openvoice.tools.check_golden", "--backend", "ttnn", "--device-mode", mode, str(folder)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(outputs), proc.stdout
    for name in outputs:
        line = next(line for line in lines if line.startswith(f"{CLI_FOLDER}/{name} "))
        assert line.endswith("PASS") and ("pcc=" in line or " exact " in line), line
    assert f"{CLI_FOLDER}/y_mask  max_abs=0.000e+00  exact  PASS" in lines


@DEVICE
def test_ttnn_backend_fails_on_perturbed_case(device, tampered_case) -> None:
    """A recorded output replaced by one the port cannot match (PCC ~0.7) fails its PCC bar, and one
    flipped frame of the (integer) y_mask fails the exact rule; the other outputs still pass."""

    def perturb(case: dict) -> None:
        z_hat = case["outputs"]["z_hat"]
        z_hat.add_(torch.randn(z_hat.shape, generator=torch.Generator().manual_seed(0)) * z_hat.std())
        case["outputs"]["y_mask"][0, 0, 3] = 1.0 - case["outputs"]["y_mask"][0, 0, 3]

    results = {r.name: r for r in check_folder(tampered_case(perturb), backend="ttnn", device=device)}
    assert not results["z_hat"].passed and results["z_hat"].pcc < 0.9, results["z_hat"].line()
    assert not results["y_mask"].passed and results["y_mask"].max_abs_error == 1.0, results["y_mask"].line()
    assert all(r.passed for name, r in results.items() if name not in ("z_hat", "y_mask"))


def test_ttnn_backend_needs_a_device(golden_dir: Path) -> None:
    with pytest.raises(ValueError, match="needs an open device"):
        check_folder(golden_dir / CLI_FOLDER, backend="ttnn")
