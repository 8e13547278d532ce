# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""runner/converter_runner.py: converter forwards on persistent device buffers per shape bucket, traced on
a card. Here (the mock cannot replay a trace) the region runs eagerly, and graph capture proves it
trace-safe: no host transfer, the same op sequence and the same buffers at the same addresses on two
requests with different inputs, the persistent inputs written in place."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import ttnn

from models.demos.openvoice.runner.converter_runner import ConverterRunner
from models.demos.openvoice.tests.helpers import DEVICE, converter_golden, requires_device
from models.demos.openvoice.tt.tone_color_converter import TtToneColorConverter
from models.demos.openvoice.utils.graph_report import assert_no_host_round_trip, capture

TRACE_DEVICE = pytest.mark.parametrize(
    "device_params", [{"l1_small_size": 16384, "trace_region_size": 64 << 20, "num_command_queues": 2}], indirect=True
)


def _requests(case) -> list[tuple]:
    """vc_small_b2 as recorded, then the same shapes with other content (scaled spec, swapped speakers, new noise)."""
    i = case.inputs
    first = (i["spec"], i["spec_lengths"], i["g_src"], i["g_tgt"], i["tau"], i["eps_q"])
    noise = torch.randn(i["eps_q"].shape, generator=torch.Generator().manual_seed(1))
    second = (i["spec"] * 0.5, i["spec_lengths"], i["g_tgt"], i["g_src"], i["tau"], noise)
    return [first, second]


def _allocations(graph: list[dict]) -> list[tuple[int, int]]:
    return [(n["params"]["address"], n["params"]["size"]) for n in graph if n.get("node_type") == "buffer_allocate"]


@DEVICE
def test_runner_equals_the_direct_conversion(device, shared_data: Path) -> None:
    """Two requests of one shape through one region: each equals `voice_conversion(bucket=True)` of the same
    request bit for bit (mock), so every input reaches its persistent buffer (a stale input fails the second)."""
    case = converter_golden(shared_data, "vc_small_b2")
    tt = TtToneColorConverter(device, case.model)
    runner = ConverterRunner(tt)
    for request in _requests(case):
        expected = tt.voice_conversion(*request, bucket=True)
        actual = runner(*request)
        assert actual.shape == expected.shape == (2, 1, 40 * tt.hop)
        assert torch.equal(actual, expected)
    assert list(runner.regions) == [(2, 64, False)]


@DEVICE
def test_region_is_trace_safe(device, shared_data: Path) -> None:
    """The region a trace would hold, captured on two requests with different inputs: no host transfer, the
    same ops, the same (address, size) of every buffer it allocates; the writes keep every persistent input
    at its address."""
    case = converter_golden(shared_data, "vc_small_b2")
    tt = TtToneColorConverter(device, case.model)
    runner = ConverterRunner(tt, traced=False)
    reports, addresses = [], []
    for request in _requests(case):
        host = tt.prepare_inputs(*request, bucket=True, on_host=True)
        region = runner.region(host)
        addresses.append([t.buffer_address() for t in region.inputs.device_tensors().values()])
        runner.execute(region)  # first run at this shape prepares conv weights (uploads): not the traced call
        ttnn.synchronize_device(device)  # the previous output is gone, as a trace's outputs are its own buffers
        report = capture(runner.execute, region)
        report.result = None
        reports.append(report)
    for report in reports:
        assert_no_host_round_trip(report)
    assert reports[0].operations == reports[1].operations
    assert _allocations(reports[0].graph) == _allocations(reports[1].graph) != []
    assert addresses[0] == addresses[1]


@requires_device
@TRACE_DEVICE
def test_traced_equals_eager(device, shared_data: Path) -> None:
    """Card: the traced region (two command queues) against the eager forward on the same requests."""
    case = converter_golden(shared_data, "vc_small_b2")
    tt = TtToneColorConverter(device, case.model)
    traced, eager = ConverterRunner(tt, traced=True), ConverterRunner(tt, traced=False)
    for request in _requests(case):
        torch.testing.assert_close(traced(*request), eager(*request), rtol=0, atol=1e-3)
    traced.release()
