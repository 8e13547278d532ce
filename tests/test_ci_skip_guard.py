"""In CI only device/checkpoint skips are allowed; any other skip fails the run (conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = '''
import pytest
def test_data_skip():
    pytest.skip("shared test data not found")
def test_device_skip():
    pytest.skip("no Tenstorrent device")
def test_checkpoint_skip():
    pytest.skip("official checkpoint not found: checkpoints_v2/converter/checkpoint.pth")
'''


def _run(tmp_path: Path, ci: str) -> str:
    test_file = tmp_path / "test_sample_skips.py"
    test_file.write_text(SAMPLE)
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT)}
    # The repository's conftest.py is loaded as a plugin so the sample can live outside the tree.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "conftest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    return result.stdout


def test_other_skips_fail_in_ci(tmp_path):
    out = _run(tmp_path, "true")
    assert "1 failed, 2 skipped" in out, out
    assert "test_data_skip" in out and "skipped in CI" in out


def test_skips_are_skips_outside_ci(tmp_path):
    assert "3 skipped" in _run(tmp_path, "")
