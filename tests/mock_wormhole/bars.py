# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Thresholds of the harness's own tests: golden numerics on the mock, kernel numerics on a card."""

from __future__ import annotations

from typing import Any

from mock_wormhole import is_mock


def pcc_for(device: Any, mock: float, real: float) -> float:
    """The PCC threshold for `device`: `mock` on the mock device (golden numerics), `real` on hardware."""
    return mock if is_mock(device) else real
