"""Top-level pytest configuration: device fixtures (real or mock Wormhole) and test data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.shared_data import require_shared_data

pytest_plugins = ["tests.mock_device.pytest_plugin"]

# The only reasons a test may skip in CI: everything else (golden data, mock-device tests)
# must run there, so any other skip is turned into a failure when CI=true.
ALLOWED_CI_SKIPS = ("no Tenstorrent device", "needs a Tenstorrent device", "official checkpoint not found")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data`: golden vectors, real V2 config, real reference-encoder weights, speech clips."""
    return require_shared_data()


@pytest.fixture
def caplog_loguru():
    """Collect loguru messages (pytest's caplog only sees the logging module)."""
    from loguru import logger

    class Sink:
        text = ""

    sink = Sink()
    handler = logger.add(lambda message: setattr(sink, "text", sink.text + str(message)), level="DEBUG")
    yield sink
    logger.remove(handler)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if not any(allowed in reason for allowed in ALLOWED_CI_SKIPS):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which only allows {ALLOWED_CI_SKIPS}: {reason}"
