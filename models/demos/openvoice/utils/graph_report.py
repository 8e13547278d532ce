# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Graph capture of a forward pass: op trace, host transfers, peak L1.

``capture(fn, *args)`` runs ``fn`` under ``ttnn.graph.begin_graph_capture(NORMAL)``
(works on the mock device: ops really run their host-side code and allocate).
The report lists the top-level ttnn operations in call order, every host
transfer (``from_torch``, ``to_torch``, ``from_device``, ``to_device``,
``Tensor::cpu`` ... at any nesting depth, so an op that silently falls back to
the host is caught too) and the peak L1 usage in bytes as tt-metal's allocator
saw it (the mock allocator does not enforce capacity: compare it against the
budget yourself).

``assert_no_host_round_trip(report)`` is the rule for a device forward: capture
it between the input upload and the output download, and it must contain no
host transfer at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

# Function names (top-level Python ops and nested C++ functions) that move data between host and device.
_HOST_TRANSFER = re.compile(
    r"(^|[.:])(from_torch|to_torch|from_device|to_device|cpu|copy_host_to_device_tensor|copy_device_to_host_tensor"
    r"|read_tensor|write_tensor|read_buffer|write_buffer|enqueue_read_\w+|enqueue_write_\w+)$"
)


def is_host_transfer(name: str) -> bool:
    return bool(_HOST_TRANSFER.search(name))


@dataclass
class GraphReport:
    """What a captured call did on the device."""

    operations: list[str]  # top-level ttnn operations, in call order
    calltrace: list[str]  # every traced function (nested C++ ones too), in order
    host_transfers: list[str]  # "op" or "op > nested function" for each outermost host transfer
    peak_l1_bytes: int
    result: Any = field(default=None, repr=False)  # fn's return value
    graph: list[dict] = field(default_factory=list, repr=False)

    @property
    def num_host_transfers(self) -> int:
        return len(self.host_transfers)


def _name(node: dict) -> str:
    return (node.get("params") or {}).get("name", "?")


def _analyse(graph: list[dict]) -> tuple[list[str], list[str]]:
    operations: list[str] = []
    transfers: list[str] = []
    open_functions: list[str] = []
    for node in graph:
        kind = node.get("node_type")
        if kind == "function_start":
            name = _name(node)
            if not open_functions:
                operations.append(name)
            if is_host_transfer(name) and not any(is_host_transfer(outer) for outer in open_functions):
                transfers.append(" > ".join([*open_functions[:1], name]) if open_functions else name)
            open_functions.append(name)
        elif kind == "function_end" and open_functions:
            open_functions.pop()
    return operations, transfers


def capture(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> GraphReport:
    """Run ``fn(*args, **kwargs)`` under graph capture and summarise it."""
    import ttnn

    ttnn.graph.begin_graph_capture(ttnn.graph.RunMode.NORMAL)
    try:
        result = fn(*args, **kwargs)
    finally:
        graph = ttnn.graph.end_graph_capture()
    operations, transfers = _analyse(graph)
    return GraphReport(
        operations=operations,
        calltrace=list(ttnn.graph.extract_calltrace(graph)),
        host_transfers=transfers,
        peak_l1_bytes=int(ttnn.graph.extract_peak_L1_memory_usage(graph)),
        result=result,
        graph=graph,
    )


def assert_no_host_round_trip(report: GraphReport) -> None:
    """Fail, naming the offending ops, if the captured forward moved data between host and device."""
    if report.host_transfers:
        raise AssertionError(
            f"{report.num_host_transfers} host transfer(s) inside the captured forward: "
            + ", ".join(report.host_transfers)
            + f" (ops in order: {', '.join(report.operations)})"
        )


_DOWNLOAD_NAMES = ("to_torch", "from_device", "cpu", "copy_device_to_host_tensor", "read_tensor", "read_buffer")


def _is_download(name: str) -> bool:
    leaf = name.replace("::", ".").split(".")[-1]
    return leaf in _DOWNLOAD_NAMES or leaf.startswith("enqueue_read_")


def device_to_host_transfers(report: GraphReport) -> list[str]:
    """Every traced function, at any nesting depth, that reads device data back to the host
    (to_torch, Tensor::cpu, from_device, read_buffer, enqueue_read_*)."""
    return [name for name in report.calltrace if _is_download(name)]


def dram_slices(report: GraphReport) -> int:
    """Number of DRAM width slices the captured convs ran in (one PaddedSlice per slice; 0 = unsliced)."""
    return sum(1 for name in report.calltrace if name == "PaddedSliceDeviceOperation")
