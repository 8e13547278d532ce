# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The converter benchmark runs and produces its figures (short input; mock or card)."""

from __future__ import annotations

import pytest

from models.demos.openvoice.demo.benchmark_converter import STAGES, benchmark, format_table, release_model
from models.demos.openvoice.utils.device import L1_SMALL_SIZE, is_mock_device


@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_benchmark_converter_short_input(device) -> None:
    model = release_model(config=None, checkpoint=None)  # release shapes, seeded random weights
    (figures,) = benchmark(device, is_mock_device(), model, seconds=[0.3], iterations=2)
    assert figures.frames == 26 and figures.samples == 26 * 256
    stages = [s for s in figures.stages if s.name in STAGES]
    assert [s.name for s in stages] == list(STAGES)
    assert all(s.operations > 0 for s in figures.stages)
    assert figures.forward.operations == sum(s.operations for s in stages)
    generator = next(s for s in stages if s.name == "generator")
    pieces = [s for s in figures.stages if s.name.startswith("  gen.")]
    assert len(pieces) == 6 and sum(s.operations for s in pieces) == generator.operations
    assert figures.forward.host_transfers == 0
    assert all(s.host_transfers == 0 for s in figures.stages)
    assert figures.forward.peak_l1_bytes > 0
    if is_mock_device():
        assert figures.latency_ms is None  # mock timing is host emulation: not reported
        assert figures.end_to_end_ms is None and figures.cold_ms is None
        # The first forward at a new length uploads prepared weights/configs, reads nothing back.
        assert figures.cold_uploads > 0 and figures.cold_downloads == 0
    else:
        assert figures.latency_ms > 0 and figures.rtf > 0
        assert figures.end_to_end_ms > 0 and figures.cold_ms > 0
    table = format_table([figures])
    assert "generator" in table and "first forward at a new input length" in table
