# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The MeloTTS benchmark runs and produces its figures (smallest input; mock or card)."""

from __future__ import annotations

import pytest

from models.demos.openvoice.demo.benchmark_tts import FRAMES_PER_TOKEN, STAGES, benchmark, format_table, release_model
from models.demos.openvoice.utils.device import L1_SMALL_SIZE, is_mock_device


@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_benchmark_tts_short_input(device) -> None:
    """0.25 s of speech (4 tokens x 6 frames) on the release shape: the pinned durations give the
    planned T_y, and the warm infer's transfers are where the design puts them."""
    (figures,) = benchmark(device, is_mock_device(), release_model(), seconds=[0.25], batch=None, iterations=2)
    assert figures.tokens == 4 and figures.frames == 4 * FRAMES_PER_TOKEN
    stages = {s.name: s for s in figures.stages}
    assert list(stages) == list(STAGES)
    assert all(stages[name].operations > 0 for name in ("encode", "durations+sync", "align+prior", "flow", "decoder"))
    assert stages["upload"].uploads == 6 and stages["upload"].downloads == 0  # ids, BERT x2, mask, sid, SDP draw
    assert (stages["durations+sync"].uploads, stages["durations+sync"].downloads) == (0, 1)  # THE sync: y_lengths
    assert (stages["align+prior"].uploads, stages["align+prior"].downloads) == (1, 0)  # eps_p, sized by T_y
    for name in ("encode", "flow", "decoder"):
        assert (stages[name].uploads, stages[name].downloads) == (0, 0), name
    assert stages["download"].downloads == 1
    assert figures.total.downloads == 2 and figures.total.peak_l1_bytes > 0
    if is_mock_device():
        assert figures.latency_ms is None and figures.rtf is None and figures.phones_per_second is None
        # First infer at this shape: uploads (prepared conv weights too) and the same two reads.
        assert figures.cold_uploads > figures.total.uploads and figures.cold_downloads == 2
    else:
        assert figures.latency_ms > 0 and figures.rtf > 0 and figures.phones_per_second > 0
    table = format_table([figures])
    assert "durations+sync" in table and "first infer at a new shape" in table
