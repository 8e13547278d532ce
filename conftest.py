"""Top-level pytest configuration: device fixtures (real or mock Wormhole) and test data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared_data import require_shared_data

pytest_plugins = ["tests.mock_device.pytest_plugin"]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data`: golden vectors, real V2 config, real reference-encoder weights, speech clips."""
    return require_shared_data()
