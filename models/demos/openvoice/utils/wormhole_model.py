# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""A device-time model of one Wormhole (N150; an N300 is two): predicted kernel and host time per device op.

Every figure this module produces is MODELLED, NOT MEASURED. Input: the device programs of a ttnn graph
capture (`op_records`: op code, the ttnn call that issued it, input/output shapes, dtypes, layouts, memory
configs and shard grids, the compute-kernel config from the op's attributes). Output per program
(`predict`): device kernel time, which resource bounds it, and the host time to dispatch it.

The hardware (sources: tt-metal tech_reports/GEMM_FLOPS, matrix_engine, Saturating_DRAM_bandwidth, LLMs):

* matrix engine: one 8x16 @ 16x16 multiply per cycle per core at 1 GHz, i.e. one 32x32x32 tile product in
  16 cycles at LoFi, times the fidelity phases (HiFi2 2, HiFi3 3, HiFi4 4); 8x8 = 64 worker cores on an
  N150. A matmul or conv output tile is one core's work: cores = min(grid, output tiles) (a conv: its
  output shard grid). ttnn pads rows to 32-row tiles, so the engine's 8-row granularity never wastes more
  than the tile padding already counted.
* DRAM: 288 GB/s spec, 267 GB/s achieved by tt-metal's read micro-benchmark; one core's NoC port moves at
  most 32 B/cycle, so an op on c cores streams at most min(267, 32 c) GB/s. L1-resident (sharded)
  tensors move at 32 B/cycle per core of their shard grid.
* an op costs a fixed device overhead (kernel launch, circular-buffer set-up, first NoC round trips) plus:
  element-wise, reduction and data-movement ops the larger of compute and data movement (double
  buffered, they overlap); matmuls and convs the SUM of matrix-engine time and DRAM time (the published
  GEMM figures show DRAM-interleaved matmuls do not overlap the two: the sum lands within 20 % of every
  published device time, the larger of the two 1.5-1.7x short of them).
* vector engine / packer: a fixed number of cycles per tile per op kind (`TILE_CYCLES`), doubled for
  float32 tiles (half the tiles fit Dst).
* host: each device program costs `HOST_US_PER_PROGRAM` to dispatch untraced (the host runs ahead, so a
  program costs the larger of its dispatch and its kernel + op-to-op gap); traced, dispatch is gone and
  only the op-to-op gap stays. Uploads and downloads cross PCIe at `PCIE_GB_S` plus a fixed latency.

`VALIDATION` lists the published figures the model is checked against (tests/test_device_model.py and
`tools/device_model.py --validate` require every ratio within [0.5, 2]); the constants below were set
once, from the hardware facts above, and are not fitted per row.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

# ---- Wormhole N150 -------------------------------------------------------------------------------------------
CLOCK_GHZ = 1.0
GRID_CORES = 64  # 8x8 worker cores available to ops on an N150 (tech_reports/GEMM_FLOPS)
TILE = 32
LOFI_CYCLES_PER_TILE = 16  # 32x32x32 tile product: 8 MVMULs of 8x16 @ 16x16 ... (GEMM_FLOPS: LoFi 16 cycles)
FIDELITY_PHASES = {"LoFi": 1, "HiFi2": 2, "HiFi3": 3, "HiFi4": 4}
DRAM_GB_S = 267.0  # Saturating_DRAM_bandwidth: read micro-benchmark at 12 GBps (spec 288)
NOC_BYTES_PER_CYCLE = 32.0  # one core's NoC port
OP_OVERHEAD_US = 3.0  # fixed device cost per program: launch, CB set-up, first NoC round trips
HOST_US_PER_PROGRAM = 25.0  # untraced dispatch per device program (Python ttnn call, enqueue)
OP_TO_OP_GAP_US = 5.0  # between two programs on the device, traced or not (tech_reports/LLMs: < 6 us traced)
TRACE_LAUNCH_US = 20.0  # one execute_trace call from the host
PCIE_GB_S = 12.0  # host <-> device copies (assumption: Gen4 x16 peak 32 GB/s, tt-metal copies ~1/3 of it)
PCIE_LATENCY_US = 15.0  # per host <-> device copy (assumption)
MODELLED = "modelled, not measured"

# bytes per 32x32 tile (tt-metal tt_metal/api/tt-metalium/tile.hpp: bfp formats carry one exponent per 16 values)
TILE_BYTES = {
    "BFLOAT16": 2048,
    "FLOAT32": 4096,
    "BFLOAT8_B": 1088,
    "BFLOAT4_B": 576,
    "UINT32": 4096,
    "INT32": 4096,
    "UINT16": 2048,
    "UINT8": 1024,
}
ELEMENT_BYTES = {"BFLOAT16": 2, "FLOAT32": 4, "UINT32": 4, "INT32": 4, "UINT16": 2, "UINT8": 1}

# Vector engine / unpack-pack cycles per bf16 tile by the ttnn call that issued the program (assumption, checked
# in aggregate by the per-op-type averages of VALIDATION): FPU element-wise ~ unpack two tiles + pack one;
# SFPU transcendental functions iterate a polynomial over 32 lanes x 32 rows.
TILE_CYCLES = {"simple": 64, "transcendental": 256, "reduce": 128, "softmax": 512, "layer_norm": 512, "tilize": 96}
TRANSCENDENTAL = (
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "sqrt",
    "rsqrt",
    "reciprocal",
    "softplus",
    "gelu",
    "pow",
    "div",
    "log1p",
    "expm1",
)


# ---- op records from a graph capture ------------------------------------------------------------------------
@dataclass(frozen=True)
class TensorSpec:
    shape: tuple[int, ...]
    dtype: str  # BFLOAT16, FLOAT32, BFLOAT8_B, ...
    layout: str  # TILE / ROW_MAJOR
    buffer: str  # DRAM / L1
    memory_layout: str  # INTERLEAVED, HEIGHT_SHARDED, BLOCK_SHARDED, WIDTH_SHARDED
    shard_cores: int  # cores of the shard grid (0: interleaved)

    @property
    def volume(self) -> int:
        return math.prod(self.shape) if self.shape else 1

    @property
    def tiles(self) -> int:
        """32x32 tiles of the padded tensor (the last two dims padded to 32)."""
        if len(self.shape) < 2:
            return math.ceil(self.volume / (TILE * TILE))
        rows = math.prod(self.shape[:-1]) // self.shape[-2] * math.ceil(self.shape[-2] / TILE)
        return rows * math.ceil(self.shape[-1] / TILE)

    @property
    def bytes(self) -> int:
        if self.layout == "TILE":
            return self.tiles * TILE_BYTES.get(self.dtype, 2048)
        return self.volume * ELEMENT_BYTES.get(self.dtype, 2)

    def describe(self) -> str:
        return f"{list(self.shape)} {self.dtype} {self.layout} {self.buffer}"


@dataclass(frozen=True)
class OpRecord:
    """One device program of a captured forward."""

    index: int
    op_code: str  # the device operation (tt-metal's OP CODE), e.g. MatmulDeviceOperation
    call: str  # the ttnn call that issued it, e.g. ttnn.conv1d
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    attributes: str = field(repr=False, default="")

    @property
    def math_fidelity(self) -> str:
        match = re.search(r"math_fidelity=(\w+)", self.attributes)
        return match.group(1) if match else ""

    @property
    def fp32_acc(self) -> bool:
        return "fp32_dest_acc_en=1" in self.attributes


def _cores_of(memory_config: str) -> int:
    """Cores of a memory config's shard grid ([{"start":{"x":..,"y":..},"end":{...}}, ...]); 0 if interleaved."""
    if "shard_spec=std::nullopt" in memory_config or "grid=" not in memory_config:
        return 0
    grid = memory_config.split("grid=", 1)[1]
    grid = grid[: grid.index("]") + 1]
    cores = 0
    for start_x, start_y, end_x, end_y in re.findall(
        r'"start":\{"x":(\d+),"y":(\d+)\},"end":\{"x":(\d+),"y":(\d+)\}', grid
    ):
        cores += (int(end_x) - int(start_x) + 1) * (int(end_y) - int(start_y) + 1)
    return cores


def tensor_spec(params: dict[str, Any]) -> TensorSpec:
    """A TensorSpec from a graph capture's tensor node params."""
    shape = tuple(int(s) for s in re.findall(r"-?\d+", params.get("shape", "")))
    memory = params.get("memory_config", "")
    layout = re.search(r"memory_layout=TensorMemoryLayout::(\w+)", memory)
    buffer = re.search(r"buffer_type=BufferType::(\w+)", memory)
    return TensorSpec(
        shape=shape,
        dtype=params.get("dtype", "").replace("DataType::", ""),
        layout=params.get("layout", "").replace("Layout::", ""),
        buffer=buffer.group(1) if buffer else "DRAM",
        memory_layout=layout.group(1) if layout else "INTERLEAVED",
        shard_cores=_cores_of(memory),
    )


def _tensors_after(graph: list[dict], start: int) -> tuple[TensorSpec, ...]:
    specs, i = [], start
    while i < len(graph) and graph[i].get("node_type") in ("tensor", "buffer"):
        if graph[i]["node_type"] == "tensor":
            specs.append(tensor_spec(graph[i].get("params") or {}))
        i += 1
    return tuple(specs)


def op_records(graph: list[dict]) -> list[OpRecord]:
    """The device programs of a captured graph, in order: one record per `program_execution` node, named after
    the innermost device operation open around it (what tt-metal's ops report lists), with that operation's
    input tensors (the tensor nodes right after its start), output tensors (right after its end), attributes
    and the outermost ttnn call."""
    records: list[OpRecord] = []
    stack: list[tuple[str, int]] = []  # (function name, node index of its start)
    pending: list[tuple[int, str, str, tuple[TensorSpec, ...], str]] = []  # programs waiting for their outputs
    for i, node in enumerate(graph):
        kind = node.get("node_type")
        name = (node.get("params") or {}).get("name", "?")
        if kind == "function_start":
            stack.append((name, i))
        elif kind == "function_end" and stack:
            closed, _ = stack.pop()
            if closed.endswith("DeviceOperation"):
                outputs = _tensors_after(graph, i + 1)
                for index, op_code, call, inputs, attributes in [p for p in pending if p[1] == closed]:
                    records.append(OpRecord(index, op_code, call, inputs, outputs, attributes))
                pending = [p for p in pending if p[1] != closed]
        elif kind == "program_execution":
            device_op = next(((n, s) for n, s in reversed(stack) if n.endswith("DeviceOperation")), None)
            if device_op is None:
                continue
            op_code, start = device_op
            call = stack[0][0] if stack else "?"
            attributes = (graph[start].get("arguments") or [""])[0]
            pending.append((len(records) + len(pending), op_code, call, _tensors_after(graph, start + 1), attributes))
    return sorted(records, key=lambda r: r.index)


# ---- the cost of one program --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    record: OpRecord
    kernel_us: float
    bound: str  # compute / DRAM / L1 / overhead
    cores: int
    compute_us: float
    data_us: float
    host_us: float = HOST_US_PER_PROGRAM

    @property
    def op_code(self) -> str:
        return self.record.op_code


def _move_us(tensors: tuple[TensorSpec, ...], cores: int) -> tuple[float, float]:
    """(DRAM us, L1 us) to stream `tensors` once with `cores` cores."""
    dram = sum(t.bytes for t in tensors if t.buffer == "DRAM")
    l1 = sum(t.bytes for t in tensors if t.buffer != "DRAM")
    port = NOC_BYTES_PER_CYCLE * CLOCK_GHZ  # GB/s per core
    dram_us = dram / (min(DRAM_GB_S, port * cores) * 1e3)
    l1_us = l1 / (port * cores * 1e3)
    return dram_us, l1_us


def _matrix_us(output_tiles: int, k_tiles: int, fidelity: str, cores: int) -> float:
    phases = FIDELITY_PHASES.get(fidelity, 2)
    cycles = math.ceil(output_tiles / cores) * k_tiles * LOFI_CYCLES_PER_TILE * phases
    return cycles / (CLOCK_GHZ * 1e3)


def _matmul(record: OpRecord) -> Prediction:
    a = record.inputs[0]  # in0 [.., M, K]; in1 [.., K, N] only sets the bytes moved
    out = record.outputs[0] if record.outputs else a
    k_tiles = math.ceil(a.shape[-1] / TILE)
    output_tiles = out.tiles
    cores = max(1, min(GRID_CORES, output_tiles))
    compute = _matrix_us(output_tiles, k_tiles, record.math_fidelity, cores)
    dram, l1 = _move_us((*record.inputs, *record.outputs), cores)
    data = dram + l1
    bound = "compute" if compute >= data else ("DRAM" if dram >= l1 else "L1")
    return Prediction(record, OP_OVERHEAD_US + compute + data, bound, cores, compute, data)


def _conv(record: OpRecord) -> Prediction:
    # inputs: halo'd activation (L1 shards), prepared weight [1, 1, K*Cin, Cout], bias; output: L1 shards
    activation, weight = record.inputs[0], record.inputs[1]
    out = record.outputs[0] if record.outputs else activation
    cores = out.shard_cores or activation.shard_cores or GRID_CORES
    k_tiles = math.ceil(weight.shape[-2] / TILE)
    compute = _matrix_us(out.tiles, k_tiles, record.math_fidelity, cores)
    # weights (and bias) stream from DRAM once, multicast; the activation and output stay in L1
    dram, l1 = _move_us((*record.inputs[1:], out), cores)
    data = dram + l1
    bound = "compute" if compute >= data else ("DRAM" if dram >= l1 else "L1")
    return Prediction(record, OP_OVERHEAD_US + compute + data, bound, cores, compute, data)


def _tile_kind(record: OpRecord) -> str:
    call = record.call.split(".")[-1]
    if record.op_code.startswith("Softmax"):
        return "softmax"
    if record.op_code.startswith("LayerNorm"):
        return "layer_norm"
    if record.op_code.startswith(("Reduce", "Accumulation")):
        return "reduce"
    if record.op_code.startswith(("Tilize", "Untilize")):
        return "tilize"
    if record.op_code.startswith(("Unary", "BinaryNg", "Ternary")) and any(f in call for f in TRANSCENDENTAL):
        return "transcendental"
    return "simple"


COMPUTE_OPS = (
    "BinaryNg",
    "Unary",
    "Ternary",
    "Typecast",
    "Reduce",
    "Softmax",
    "LayerNorm",
    "Accumulation",
    "Tilize",
    "Untilize",
)


def _moved(record: OpRecord) -> tuple[TensorSpec, ...]:
    """The tensors a program streams: all its inputs and outputs, except that a slice reads only the region it
    writes (its input holds the whole tensor) and a slice-write writes only its input into a larger output."""
    if record.op_code.startswith(("Slice", "PaddedSlice")) and record.inputs and record.outputs:
        source, out = record.inputs[0], record.outputs[0]
        return (replace(out, dtype=source.dtype, layout=source.layout, buffer=source.buffer), out)
    if record.op_code.startswith("SliceWrite") and len(record.inputs) >= 2:
        part, target = record.inputs[0], record.inputs[1]
        return (part, replace(part, dtype=target.dtype, layout=target.layout, buffer=target.buffer))
    return (*record.inputs, *record.outputs)


def _streaming(record: OpRecord) -> Prediction:
    """Element-wise, reduction and data-movement programs: compute and data movement overlap."""
    out = record.outputs[0] if record.outputs else (record.inputs[0] if record.inputs else None)
    tensors = _moved(record)
    widest = max((t.tiles for t in tensors), default=1)
    sharded = max((t.shard_cores for t in tensors), default=0)
    cores = sharded or max(1, min(GRID_CORES, widest))
    compute = 0.0
    if record.op_code.startswith(COMPUTE_OPS) and out is not None:
        float32 = any(t.dtype == "FLOAT32" for t in tensors)
        cycles = math.ceil(widest / cores) * TILE_CYCLES[_tile_kind(record)] * (2 if float32 else 1)
        compute = cycles / (CLOCK_GHZ * 1e3)
    dram, l1 = _move_us(tensors, cores)
    data = dram + l1
    kernel = OP_OVERHEAD_US + max(compute, data)
    if max(compute, data) < OP_OVERHEAD_US:
        bound = "overhead"
    else:
        bound = "compute" if compute >= data else ("DRAM" if dram >= l1 else "L1")
    return Prediction(record, kernel, bound, cores, compute, data)


def predict(record: OpRecord) -> Prediction:
    """The modelled device kernel time of one program."""
    if record.op_code.startswith("Matmul") and len(record.inputs) >= 2:
        return _matmul(record)
    if record.op_code.startswith("Conv2d") and len(record.inputs) >= 2:
        return _conv(record)
    return _streaming(record)


# ---- a whole forward ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ForwardTime:
    """Modelled time of one forward: device kernels, host dispatch and the end to end of both."""

    predictions: list[Prediction]
    transfers_bytes: tuple[int, ...] = ()  # host <-> device copies of one request (uploads, downloads)

    @property
    def kernel_ms(self) -> float:
        return sum(p.kernel_us for p in self.predictions) / 1e3

    @property
    def dispatch_ms(self) -> float:
        return sum(p.host_us for p in self.predictions) / 1e3

    @property
    def transfer_ms(self) -> float:
        return sum(PCIE_LATENCY_US + b / (PCIE_GB_S * 1e3) for b in self.transfers_bytes) / 1e3

    def end_to_end_ms(self, traced: bool) -> float:
        """Untraced: the host runs ahead of the device, so each program costs the larger of its dispatch and
        its kernel + gap. Traced: one trace launch, then kernels and gaps only. Plus the PCIe copies."""
        if traced:
            device = sum(p.kernel_us + OP_TO_OP_GAP_US for p in self.predictions) + TRACE_LAUNCH_US
        else:
            device = sum(max(p.host_us, p.kernel_us + OP_TO_OP_GAP_US) for p in self.predictions)
        return device / 1e3 + self.transfer_ms


def model_graph(graph: list[dict], transfers_bytes: tuple[int, ...] = ()) -> ForwardTime:
    return ForwardTime([predict(record) for record in op_records(graph)], transfers_bytes)


def by_op_type(predictions: list[Prediction]) -> list[dict[str, Any]]:
    """Per OP CODE: programs, modelled us, share of the kernel time, and the bound most of its time is under."""
    total = sum(p.kernel_us for p in predictions) or 1.0
    rows: dict[str, dict[str, Any]] = {}
    for p in predictions:
        row = rows.setdefault(p.op_code, {"op_code": p.op_code, "ops": 0, "us": 0.0, "bounds": {}})
        row["ops"] += 1
        row["us"] += p.kernel_us
        row["bounds"][p.bound] = row["bounds"].get(p.bound, 0.0) + p.kernel_us
    result = []
    for row in sorted(rows.values(), key=lambda r: -r["us"]):
        bound = max(row["bounds"], key=row["bounds"].get)
        result.append(
            {
                "op_code": row["op_code"],
                "ops": row["ops"],
                "us": row["us"],
                "share": row["us"] / total,
                "mean_us": row["us"] / row["ops"],
                "bound": bound,
            }
        )
    return result
