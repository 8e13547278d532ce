# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""A forward at fixed shapes on persistent device buffers: traced with two command queues on a card, the
identical region run eagerly on the mock.

Per shape key one `Region`: persistent device inputs (allocated once, by uploading the first request of that
shape), the forward's output tensor and, on a card, the trace of the forward. A request's host tensors (padded
to the shape on the host, masks included, so every item equals its unpadded run) are written into the
persistent tensors with `ttnn.copy_host_to_device_tensor` on the write queue (queue 1 when the device has two
command queues), an event makes the compute queue (0) wait for the writes, then the region runs:
`ttnn.execute_trace` on a card; on the mock, where trace capture segfaults
(../shared/docs/ttnn-without-hardware.md), the same forward eagerly on the same buffers.

A region is trace-safe when, run twice with different inputs, it makes no host transfer, allocates the same
buffers at the same addresses and runs the same op sequence (tests/test_runner.py checks it with graph
capture). Regions are bounded (`max_regions`, least recently used released first).

Inputs are any object with `device_tensors()` (name -> host or device tensor: what a request writes) and
`with_device_tensors(tensors)` (the same inputs on other tensors): `TtConverterInputs`, `TtCloneInputs`.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Protocol

import ttnn
from loguru import logger

from models.demos.openvoice.utils.device import is_mock_device

WRITE_QUEUE, COMPUTE_QUEUE = 1, 0


class RegionInputs(Protocol):
    def device_tensors(self) -> dict[str, ttnn.Tensor]: ...

    def with_device_tensors(self, tensors: dict[str, ttnn.Tensor]) -> "RegionInputs": ...


@dataclass
class Region:
    inputs: Any  # RegionInputs on the persistent device tensors
    serial: int  # which region this is (a region that reads another one's outputs keys on it)
    output: Any = None  # the traced forward's output (card): a tensor, or the forward's result object
    trace_id: Any = None


class Regions:
    def __init__(
        self,
        device: ttnn.Device,
        forward: Callable[[Any], ttnn.Tensor],
        name: str,
        traced: bool | None = None,
        max_regions: int = 8,
        write_queue: int | None = None,
    ) -> None:
        """`traced` None: traced on a card, eager on the mock. A traced runner needs the device opened with a trace
        region and two command queues (device_params `trace_region_size`, `num_command_queues: 2`): inputs go
        on queue 1 (`write_queue`, default 1 when traced, else 0)."""
        self.device, self.forward, self.name = device, forward, name
        self.traced = (not is_mock_device()) if traced is None else traced
        self.write_queue = (WRITE_QUEUE if self.traced else COMPUTE_QUEUE) if write_queue is None else write_queue
        self.max_regions = max_regions
        self.regions: OrderedDict[Hashable, Region] = OrderedDict()
        self._serials = itertools.count()

    def region_for(self, host: RegionInputs, key: Hashable) -> Region:
        """The region of shape `key` with `host` written into its persistent inputs (made on first use)."""
        if key in self.regions:
            self.regions.move_to_end(key)
            region = self.regions[key]
            self.write(host, region)
            return region
        persistent = {name: ttnn.to_device(tensor, self.device) for name, tensor in host.device_tensors().items()}
        region = Region(host.with_device_tensors(persistent), next(self._serials))
        if self.traced:
            self.capture(region)
        self.regions[key] = region
        if len(self.regions) > self.max_regions:
            _, evicted = self.regions.popitem(last=False)
            if evicted.trace_id is not None:
                ttnn.release_trace(self.device, evicted.trace_id)
        logger.info(f"{self.name} region {key} ({'traced' if self.traced else 'eager'})")
        return region

    def write(self, host: RegionInputs, region: Region) -> None:
        """Every input into its persistent tensor on the write queue; the compute queue waits for them."""
        persistent = region.inputs.device_tensors()
        for name, tensor in host.device_tensors().items():
            ttnn.copy_host_to_device_tensor(tensor, persistent[name], cq_id=self.write_queue)
        if self.write_queue != COMPUTE_QUEUE:
            ttnn.wait_for_event(COMPUTE_QUEUE, ttnn.record_event(self.device, self.write_queue))

    def capture(self, region: Region) -> None:
        """Card: compile the forward at this shape (programs, prepared conv weights), then trace it."""
        self.forward(region.inputs)
        region.trace_id = ttnn.begin_trace_capture(self.device, cq_id=COMPUTE_QUEUE)
        region.output = self.forward(region.inputs)
        ttnn.end_trace_capture(self.device, region.trace_id, cq_id=COMPUTE_QUEUE)
        ttnn.synchronize_device(self.device)

    def execute(self, region: Region) -> ttnn.Tensor:
        """The region: the trace on a card, the same forward eagerly on the mock."""
        if region.trace_id is None:
            return self.forward(region.inputs)
        ttnn.execute_trace(self.device, region.trace_id, cq_id=COMPUTE_QUEUE, blocking=False)
        return region.output

    def release(self) -> None:
        for region in self.regions.values():
            if region.trace_id is not None:
                ttnn.release_trace(self.device, region.trace_id)
        self.regions.clear()
