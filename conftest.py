"""Top-level pytest configuration: device fixtures (real or mock Wormhole) and test data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.shared_data import require_shared_data

pytest_plugins = ["tests.mock_device.pytest_plugin"]

# The only reasons a test may skip in CI: everything else (golden data, mock-device tests)
# must run there, so any other skip is turned into a failure when CI=true.
# - "no Tenstorrent device" / "needs a Tenstorrent device ...": device tests on a host without
#   the hardware they need (real mode without a card, requires_device on the mock, a 2-chip
#   mesh on an N150 or the mock N150);
# - "only on the mock device ...": `requires_mock` tests of the mock itself (shadow execution,
#   NaN-filled ttnn.empty). On real hardware there is no shadow to test, so the skip hides
#   nothing; on the mock (every CI host today) they run;
# - "official checkpoint not found": the official OpenVoice checkpoint is not redistributable.
ALLOWED_CI_SKIPS = (
    "no Tenstorrent device",
    "needs a Tenstorrent device",
    "only on the mock device",
    "official checkpoint not found",
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _disallowed_ci_skip(report: pytest.TestReport | pytest.CollectReport) -> str | None:
    """The reason of a skip CI must not allow, or None (not a skip, an xfail, an allowed reason, not CI)."""
    if not report.skipped or hasattr(report, "wasxfail") or not _in_ci():
        return None
    reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if any(allowed in reason for allowed in ALLOWED_CI_SKIPS):
        return None
    return reason


def _fail_disallowed_skip(report: pytest.TestReport | pytest.CollectReport, what: str) -> None:
    reason = _disallowed_ci_skip(report)
    if reason is not None:
        report.outcome = "failed"
        report.longrepr = f"{what}, which only allows {ALLOWED_CI_SKIPS}: {reason}"


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
    _fail_disallowed_skip((yield).get_result(), "skipped in CI")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """Collection-time skips (module-level pytest.skip(allow_module_level=True), importorskip)."""
    _fail_disallowed_skip((yield).get_result(), "skipped at collection in CI")
