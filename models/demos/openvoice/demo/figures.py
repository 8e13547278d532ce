# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Small pieces shared by the benchmarks and reports: warm timing on a device and table cells."""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING, Callable

import ttnn

if TYPE_CHECKING:
    from models.demos.openvoice.utils.wormhole_model import ForwardTime


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


def modelled_line(label: str, time: "ForwardTime", audio_seconds: float) -> str:
    """One benchmark row of the device-time model (utils/wormhole_model.py), labelled as such."""
    from models.demos.openvoice.utils.wormhole_model import MODELLED

    untraced, traced = time.end_to_end_ms(False), time.end_to_end_ms(True)
    return (
        f"{label}: predicted on an N150 ({MODELLED}): {len(time.predictions)} programs, kernels {time.kernel_ms:.1f} ms, "
        f"end to end {untraced:.1f} ms untraced / {traced:.1f} ms traced, RTF {untraced / 1e3 / audio_seconds:.4f} / "
        f"{traced / 1e3 / audio_seconds:.4f}"
    )


def fmt(value: float | None, spec: str) -> str:
    """A table cell: `value` formatted with `spec`, or "-" when there is no figure (e.g. timing on the mock)."""
    return "-" if value is None else format(value, spec)
