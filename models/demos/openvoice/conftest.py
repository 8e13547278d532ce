# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the OpenVoice tests beyond tt-metal's (the device ones come from tt-metal's root conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.demos.openvoice.tests.shared_data import require_shared_data


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The test data (golden vectors, real V2 config, real reference-encoder weights, speech clips)."""
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
