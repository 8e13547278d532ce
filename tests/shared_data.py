"""Where tests find `../shared/data` (golden vectors, real weights, real speech).

`.ci/run` exports OPENVOICE_SHARED_DATA when `../shared/data` exists beside the checkout.
Outside CI a missing folder skips the data tests with that reason; inside CI (CI=true)
it is an error, because golden tests must never skip there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENV_VAR = "OPENVOICE_SHARED_DATA"


def shared_data_dir() -> Path | None:
    """The data folder named by OPENVOICE_SHARED_DATA, or None when unset or absent."""
    value = os.environ.get(ENV_VAR)
    if not value:
        return None
    path = Path(value)
    return path if path.is_dir() else None


def require_shared_data() -> Path:
    """Return the data folder; skip (locally) or fail (CI) when it is not there."""
    path = shared_data_dir()
    if path is not None:
        return path
    message = f"shared test data not found: set {ENV_VAR} to the ../shared/data folder"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + " (CI must run the golden tests)")
    pytest.skip(message)
