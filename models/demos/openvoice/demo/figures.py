# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Small pieces shared by the benchmarks and reports: warm timing on a device and table cells."""

from __future__ import annotations

import statistics
import time
from typing import Callable

import ttnn


def median_ms(call: Callable[[], object], device: ttnn.Device, iterations: int) -> float:
    """Median wall-clock milliseconds of `call`, synchronised with the device before and after."""
    ttnn.synchronize_device(device)
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        call()
        ttnn.synchronize_device(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def fmt(value: float | None, spec: str) -> str:
    """A table cell: `value` formatted with `spec`, or "-" when there is no figure (e.g. timing on the mock)."""
    return "-" if value is None else format(value, spec)
