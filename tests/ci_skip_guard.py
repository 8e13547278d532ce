# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""This repository's CI rule, loaded by ``./run_tests.sh`` (``-p tests.ci_skip_guard``) and so by ``.ci/run``:
with ``CI=true`` every skip fails unless its reason is one of ``ALLOWED_CI_SKIPS``. Golden-data and
mock-device tests must run in CI; a test may skip only because the hardware or the official
checkpoint is not there. Not part of the root conftest: it applies to this repository's own run,
never to a tt-metal checkout the model folder is dropped into.

Allowed reasons:
- "no Tenstorrent device" / "needs a Tenstorrent device ...": device tests on a host without the
  hardware they need (real mode without a card, kernel-numerics/timing tests on the mock, a
  2-chip mesh on an N150 or the mock N150);
- "only on the mock device ...": tests of the mock itself; on a card there is no shadow to test;
- "official checkpoint not found": the official OpenVoice / MeloTTS checkpoints are not here.
"""

from __future__ import annotations

import os

import pytest

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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    _fail_disallowed_skip((yield).get_result(), "skipped in CI")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """Collection-time skips (module-level pytest.skip(allow_module_level=True), importorskip)."""
    _fail_disallowed_skip((yield).get_result(), "skipped at collection in CI")


def pytest_configure(config: pytest.Config) -> None:
    """CI never runs in the bar-measuring mode (models/demos/openvoice/tests/helpers.py MEASURING), which
    records figures instead of asserting them."""
    if _in_ci() and os.environ.get("OPENVOICE_MEASURE_BARS"):
        raise pytest.UsageError("OPENVOICE_MEASURE_BARS is set: CI must assert the accuracy bars, not only measure them")
