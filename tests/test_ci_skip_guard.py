# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""In CI only device/mock/checkpoint skips are allowed; any other skip fails the run (tests/ci_skip_guard.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from models.demos.openvoice.tests.shared_data import ENV_VAR, REPO_ROOT, require_shared_data

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = '''
import pytest
def test_data_skip():
    pytest.skip("shared test data not found")
def test_device_skip():
    pytest.skip("no Tenstorrent device")
def test_checkpoint_skip():
    pytest.skip("official checkpoint not found: checkpoints_v2/converter/checkpoint.pth")
def test_mock_only_skip():
    pytest.skip("only on the mock device: shadow execution")
def test_chip_count_skip():
    pytest.skip("needs a Tenstorrent device with 2 chips (the mock n150 board has 1)")
@pytest.mark.xfail(reason="known bug", strict=True)
def test_marked_xfail():
    assert False
def test_imperative_xfail():
    pytest.xfail("not implemented yet")
'''

MODULE_SKIPS = {
    "test_module_skip_disallowed.py": 'import pytest\npytest.skip("optional dependency missing", allow_module_level=True)\n'
    "def test_never_runs():\n    pass\n",
    "test_module_skip_allowed.py": 'import pytest\npytest.skip("no Tenstorrent device", allow_module_level=True)\n'
    "def test_never_runs():\n    pass\n",
    "test_module_importorskip.py": 'import pytest\npytest.importorskip("a_module_that_does_not_exist_4711")\n'
    "def test_never_runs():\n    pass\n",
}


def _run(tmp_path: Path, ci: str, files: dict[str, str] | None = None, guard: bool = True) -> str:
    for name, text in (files or {"test_sample_skips.py": SAMPLE}).items():
        (tmp_path / name).write_text(text)
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT)}
    # The guard is loaded as ./run_tests.sh loads it, so the sample can live outside the tree.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp_path), "-q", "-rA", *(["-p", "tests.ci_skip_guard"] if guard else []),
         "-p", "no:cacheprovider", "--rootdir", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    return result.stdout


def test_other_skips_fail_in_ci(tmp_path):
    out = _run(tmp_path, "true")
    assert "1 failed, 4 skipped, 2 xfailed" in out, out
    assert "test_data_skip" in out and "skipped in CI" in out


def test_the_guard_is_this_repository_s_own_not_the_root_conftest_s(tmp_path):
    """Without ./run_tests.sh's `-p tests.ci_skip_guard` (a tt-metal checkout) CI skips stay skips."""
    assert "ALLOWED_CI_SKIPS" not in (ROOT / "conftest.py").read_text()
    assert "-p tests.ci_skip_guard" in (ROOT / "run_tests.sh").read_text()
    out = _run(tmp_path, "true", guard=False)
    assert "5 skipped, 2 xfailed" in out, out


def test_skips_are_skips_outside_ci(tmp_path):
    out = _run(tmp_path, "")
    assert "5 skipped, 2 xfailed" in out, out


def test_module_level_skips_fail_in_ci(tmp_path):
    out = _run(tmp_path, "true", MODULE_SKIPS)
    assert "2 errors" in out and "1 skipped" in out, out
    assert "skipped at collection in CI" in out and "optional dependency missing" in out, out
    assert "a_module_that_does_not_exist_4711" in out, out
    assert "Interrupted" in out, out


def test_module_level_skips_are_skips_outside_ci(tmp_path):
    out = _run(tmp_path, "", MODULE_SKIPS)
    assert "3 skipped" in out and "error" not in out, out


@pytest.mark.parametrize("ci", ["", "true"])
def test_missing_shared_data_fails_not_skips(monkeypatch, tmp_path, ci):
    """Outside CI too: "shared test data not found" is not an allowed skip reason."""
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "absent"))
    with pytest.raises(pytest.fail.Exception, match="shared test data not found: set OPENVOICE_SHARED_DATA"):
        require_shared_data()
    monkeypatch.delenv(ENV_VAR)
    with pytest.raises(pytest.fail.Exception, match="shared test data not found"):
        require_shared_data()
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert require_shared_data() == tmp_path


def test_repo_root():
    assert REPO_ROOT == ROOT
    assert (REPO_ROOT / "conftest.py").is_file() and (REPO_ROOT / "run_tests.sh").is_file()
