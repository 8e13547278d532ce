# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Converter forwards at fixed shapes on persistent device buffers: traced with two command queues on a
card, the identical region run eagerly on the mock.

Per (batch size, frame bucket, input kind) one `Region`: persistent device inputs (allocated once, by
uploading the first request of that shape), the forward's output tensor and, on a card, the trace of the
forward. A request is padded to its bucket on the host, either as a spectrogram (`prepare_inputs(bucket=True,
on_host=True)`) or as the waveforms of a batch of requests (`convert_batch`, `prepare_batch(on_host=True)`:
the STFT then runs inside the region); zeros and masks make every item equal its unpadded run. Each input is written into its persistent tensor with
`ttnn.copy_host_to_device_tensor` on the write queue (queue 1 when the device has two command queues),
an event makes the compute queue (0) wait for the writes, then the region runs: `ttnn.execute_trace` on a
card; on the mock, where trace capture segfaults (../shared/docs/ttnn-without-hardware.md), the same
forward eagerly on the same buffers. The audio is read from the output tensor and cut to each item.

A region is trace-safe when, run twice with different inputs, it makes no host transfer, allocates the
same buffers at the same addresses and runs the same op sequence (tests/test_runner.py checks it with
graph capture). Regions are bounded (`max_regions`, least recently used released first).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Sequence

import torch
import ttnn
from loguru import logger

from models.demos.openvoice.tt.tone_color_converter import TtConverterInputs, TtToneColorConverter
from models.demos.openvoice.utils.device import is_mock_device

WRITE_QUEUE, COMPUTE_QUEUE = 1, 0


@dataclass
class Region:
    inputs: TtConverterInputs  # persistent device tensors
    output: ttnn.Tensor | None = None  # the traced forward's output (card)
    trace_id: Any = None


class ConverterRunner:
    def __init__(
        self, tt: TtToneColorConverter, traced: bool | None = None, max_regions: int = 8, write_queue: int | None = None
    ) -> None:
        """`traced` None: traced on a card, eager on the mock. A traced runner needs the device opened with a trace
        region and two command queues (device_params `trace_region_size`, `num_command_queues: 2`): inputs go
        on queue 1 (`write_queue`, default 1 when traced, else 0)."""
        self.tt, self.device = tt, tt.device
        self.traced = (not is_mock_device()) if traced is None else traced
        self.write_queue = (WRITE_QUEUE if self.traced else COMPUTE_QUEUE) if write_queue is None else write_queue
        self.max_regions = max_regions
        self.regions: OrderedDict[tuple[int, int, bool], Region] = OrderedDict()

    def __call__(
        self,
        spec: torch.Tensor,
        spec_lengths: torch.Tensor,
        g_src: torch.Tensor,
        g_tgt: torch.Tensor,
        tau: float = 0.3,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Torch in, audio [B, 1, T*hop] out (T the unpadded frames), as `voice_conversion`."""
        host = self.tt.prepare_inputs(spec, spec_lengths, g_src, g_tgt, tau, noise, bucket=True, on_host=True)
        return self.tt.download_audio(self.execute(self.region(host)), host)

    def convert_batch(
        self,
        waveforms: Sequence[torch.Tensor],
        g_src: torch.Tensor,
        g_tgt: torch.Tensor,
        taus: Sequence[float],
        noises: Sequence[torch.Tensor | None],
    ) -> list[torch.Tensor]:
        """Requests from their waveforms (`prepare_batch`: the STFT inside the region) -> each item's audio."""
        host = self.tt.prepare_batch(waveforms, g_src, g_tgt, taus, noises, on_host=True)
        return self.tt.download_items(self.execute(self.region(host)), host)

    def region(self, host: TtConverterInputs) -> Region:
        """The region of `host`'s shape with `host` written into its persistent inputs (made on first use)."""
        key = (host.batch_size, host.length, host.waveform is not None)
        if key in self.regions:
            self.regions.move_to_end(key)
            region = self.regions[key]
            self.write(host, region)
            return region
        persistent = {name: ttnn.to_device(tensor, self.device) for name, tensor in host.device_tensors().items()}
        region = Region(replace(host, **persistent))
        if self.traced:
            self.capture(region)
        self.regions[key] = region
        if len(self.regions) > self.max_regions:
            _, evicted = self.regions.popitem(last=False)
            if evicted.trace_id is not None:
                ttnn.release_trace(self.device, evicted.trace_id)
        logger.info(f"converter region for B={key[0]}, {key[1]} frames{' from waveforms' if key[2] else ''} ({'traced' if self.traced else 'eager'})")
        return region

    def write(self, host: TtConverterInputs, region: Region) -> None:
        """Every input into its persistent tensor on the write queue; the compute queue waits for them."""
        for name, tensor in host.device_tensors().items():
            ttnn.copy_host_to_device_tensor(tensor, getattr(region.inputs, name), cq_id=self.write_queue)
        if self.write_queue != COMPUTE_QUEUE:
            ttnn.wait_for_event(COMPUTE_QUEUE, ttnn.record_event(self.device, self.write_queue))

    def capture(self, region: Region) -> None:
        """Card: compile the forward at this shape (programs, prepared conv weights), then trace it."""
        self.tt.forward(region.inputs)
        region.trace_id = ttnn.begin_trace_capture(self.device, cq_id=COMPUTE_QUEUE)
        region.output = self.tt.forward(region.inputs)
        ttnn.end_trace_capture(self.device, region.trace_id, cq_id=COMPUTE_QUEUE)
        ttnn.synchronize_device(self.device)

    def execute(self, region: Region) -> ttnn.Tensor:
        """The region: the trace on a card, the same forward eagerly on the mock."""
        if region.trace_id is None:
            return self.tt.forward(region.inputs)
        ttnn.execute_trace(self.device, region.trace_id, cq_id=COMPUTE_QUEUE, blocking=False)
        return region.output

    def release(self) -> None:
        for region in self.regions.values():
            if region.trace_id is not None:
                ttnn.release_trace(self.device, region.trace_id)
        self.regions.clear()
