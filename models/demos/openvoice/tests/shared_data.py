# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Where tests find `../shared/data` (golden vectors, real weights, real speech), and the repository root.

`./run_tests.sh` and `.ci/run` export OPENVOICE_SHARED_DATA when `../shared/data` exists
beside the checkout. A missing folder is a test failure everywhere, never a skip: the golden
tests are the port's correctness evidence, and "shared test data not found" is not a reason
the CI skip guard (conftest.py) allows.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENV_VAR = "OPENVOICE_SHARED_DATA"

REPO_ROOT: Path = Path(__file__).resolve().parents[4]
"""The repository root (the folder holding conftest.py, run_tests.sh and models/)."""

MISSING_MESSAGE = (
    f"shared test data not found: set {ENV_VAR} to the ../shared/data folder "
    "(./run_tests.sh does so when ../shared/data exists beside the checkout)"
)


def shared_data_dir() -> Path | None:
    """The data folder named by OPENVOICE_SHARED_DATA, or None when unset or absent."""
    value = os.environ.get(ENV_VAR)
    if not value:
        return None
    path = Path(value)
    return path if path.is_dir() else None


def script_shared_data_dir() -> Path | None:
    """For the script modes (`python .../test_*.py`), run without ./run_tests.sh: OPENVOICE_SHARED_DATA,
    else ../shared/data beside the checkout; None when neither exists."""
    beside = REPO_ROOT.parent / "shared" / "data"
    return shared_data_dir() or (beside if beside.is_dir() else None)


def require_shared_data() -> Path:
    """Return the data folder; fail the calling test (locally and in CI) when it is not there."""
    path = shared_data_dir()
    if path is not None:
        return path
    value = os.environ.get(ENV_VAR)
    detail = f" ({ENV_VAR}={value!r} is not a folder)" if value else ""
    pytest.fail(MISSING_MESSAGE + detail, pytrace=False)
