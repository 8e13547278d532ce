# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Predicted Wormhole device time of a forward (MODELLED, NOT MEASURED), from a graph capture on the device.

    python -m models.demos.openvoice.tools.device_model --model converter --seconds 10 [--batch B] [--traced]
    python -m models.demos.openvoice.tools.device_model --validate
    python -m models.demos.openvoice.tools.device_model --bounty            # the per-model, per-length table

One warm forward of the model (perf_report's workloads: release shapes, seeded weights) runs under ttnn's
graph capture on the device (the mock Wormhole here); `utils/wormhole_model.py` predicts every device
program's kernel time from its shapes, dtypes, layouts, memory configs and compute config. Printed: per op
type (programs, predicted us, share, what bounds it), the ten slowest programs, totals (device kernel ms,
host dispatch ms, end to end ms untraced or traced), RTF and, for MeloTTS, phones per second. `--csv` writes
the programs in tt-metal's ops-report columns with a DATA SOURCE column saying "modelled, not measured", so
`tools/perf_report.py` reads it like a Tracy report (and, on a card, `perf_report <tracy.csv> --model
<modelled.csv>` prints measured vs modelled per op type). `--png` draws time per op type per model.

`--validate` builds each published case (VALIDATION) on the device, predicts it and prints prediction,
published figure and ratio; exit 1 if any ratio is outside [0.5, 2].
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from loguru import logger

from models.demos.openvoice.tools.perf_report import (
    Workload,
    clone_workload,
    converter_workload,
    signpost_message,
    tts_workload,
)
from models.demos.openvoice.utils import wormhole_model as wm

MODELS = ("converter", "clone", "melotts", "speak")
BOUNTY_SECONDS = {
    "converter": (1.0, 5.0, 10.0, 20.0),
    "clone": (3.0, 10.0, 30.0),
    "melotts": (2.0, 5.0, 10.0, 20.0),
    "speak": (2.0, 5.0, 10.0),
}
RATIO_RANGE = (0.5, 2.0)


# ---- a modelled forward ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelledRun:
    name: str
    audio_seconds: float
    batch: int
    tokens: int
    time: wm.ForwardTime

    def rtf(self, traced: bool) -> float:
        return self.time.end_to_end_ms(traced) / 1e3 / (self.audio_seconds * self.batch)

    def phones_per_second(self, traced: bool) -> float | None:
        return self.tokens * self.batch / (self.time.end_to_end_ms(traced) / 1e3) if self.tokens else None


def model_workload(workload: Workload) -> ModelledRun:
    """Capture one warm iteration of `workload` and model every program of it."""
    from models.demos.openvoice.utils.graph_report import capture

    report = capture(workload.run)
    time = wm.model_graph(report.graph, workload.io_bytes)
    logger.info(f"{workload.name}: {len(time.predictions)} programs modelled")
    return ModelledRun(workload.name, workload.audio_seconds, workload.batch, workload.tokens, time)


def build_workloads(device: Any, model: str, seconds: float, batch: int) -> list[Workload]:
    """`speak` = MeloTTS for `seconds` of speech, then the converter on that audio (its spectrogram and the
    base speaker's embedding are host / precomputed here, a few ms of the whole)."""
    if model == "converter":
        return [converter_workload(device, seconds, batch=batch)]
    if model == "clone":
        return [clone_workload(device, seconds)] * batch
    if model == "melotts":
        return [tts_workload(device, seconds, batch=batch)]
    return [tts_workload(device, seconds, batch=batch), converter_workload(device, seconds, batch=batch)]


def combine(name: str, runs: Sequence[ModelledRun]) -> ModelledRun:
    first = runs[0]
    predictions = [p for run in runs for p in run.time.predictions]
    transfers = tuple(b for run in runs for b in run.time.transfers_bytes)
    return ModelledRun(name, first.audio_seconds, first.batch, first.tokens, wm.ForwardTime(predictions, transfers))


def modelled_run(device: Any, model: str, seconds: float, batch: int = 1) -> ModelledRun:
    runs = [model_workload(w) for w in build_workloads(device, model, seconds, batch)]
    return runs[0] if len(runs) == 1 else combine(model, runs)


# ---- pricing the open design choices --------------------------------------------------------------------------
def _plan(**entries: Any) -> dict:
    from models.demos.openvoice.tt.precision import PLAN, Precision

    return {**PLAN, **{module: Precision(*option) for module, option in entries.items()}}


# name -> converter_workload keyword arguments (each one choice changed from the port as it is)
CONVERTER_CHOICES: dict[str, Callable[[], dict]] = {
    "as ported (PLAN, fp32 generator tail)": lambda: {},
    "flow HiFi2, bf16 acc": lambda: {"plan": _plan(flow=("HiFi2", False))},
    "flow HiFi2, bf16 acc, bfloat8_b weights": lambda: {"plan": _plan(flow=("HiFi2", False, "bfloat8_b"))},
    "generator HiFi2, bf16 acc": lambda: {"plan": _plan(generator=("HiFi2", False))},
    "generator HiFi3, bfloat8_b weights": lambda: {"plan": _plan(generator=("HiFi3", True, "bfloat8_b"))},
    "generator all bf16 (no fp32 tail)": lambda: {"fp32_stages": 0},
    "posterior encoder HiFi2, bf16 acc": lambda: {"plan": _plan(posterior_encoder=("HiFi2", False))},
}


def rank_converter_choices(device: Any, seconds: float) -> list[str]:
    """Each choice's modelled converter forward (kernels, end to end untraced and traced) against the port's."""
    rows = []
    for name, arguments in CONVERTER_CHOICES.items():
        run = model_workload(converter_workload(device, seconds, **arguments()))
        rows.append((name, run.time))
    base = rows[0][1]
    lines = [
        f"| converter {seconds:g} s: choice | kernels ms | saving | end to end untraced ms | end to end traced ms | saving traced |",
        "|---|---|---|---|---|---|",
    ]
    for name, t in rows:
        saving = base.kernel_ms - t.kernel_ms
        saving_traced = base.end_to_end_ms(True) - t.end_to_end_ms(True)
        lines.append(
            f"| {name} | {t.kernel_ms:.2f} | {saving:+.2f} ms ({saving / base.kernel_ms:+.1%}) | {t.end_to_end_ms(False):.2f} "
            f"| {t.end_to_end_ms(True):.2f} | {saving_traced:+.2f} ms |"
        )
    untraced, traced = base.end_to_end_ms(False), base.end_to_end_ms(True)
    lines.append(f"| trace (the port, traced vs untraced) | {base.kernel_ms:.2f} | - | {untraced:.2f} | {traced:.2f} | {untraced - traced:+.2f} ms |")
    return lines


# ---- printing -------------------------------------------------------------------------------------------------
def format_run(run: ModelledRun, traced: bool, top: int = 10) -> str:
    t = run.time
    lines = [f"{run.name}, {run.audio_seconds:.2f} s of audio x {run.batch} ({wm.MODELLED}; Wormhole N150)", ""]
    lines.append(f"{'op type':<40} {'programs':>8} {'pred. us':>10} {'share':>6} {'mean us':>8}  bound")
    for row in wm.by_op_type(t.predictions):
        lines.append(
            f"{row['op_code']:<40} {row['ops']:>8} {row['us']:>10.1f} {row['share'] * 100:>5.1f}% {row['mean_us']:>8.2f}  {row['bound']}"
        )
    lines += ["", f"top {top} programs:"]
    for p in sorted(t.predictions, key=lambda p: -p.kernel_us)[:top]:
        shapes = " x ".join(str(list(s.shape)) for s in p.record.inputs[:2])
        fidelity = f" {p.record.math_fidelity}" if p.record.math_fidelity else ""
        lines.append(
            f"  {p.kernel_us:8.1f} us  {p.op_code} ({p.record.call}) {shapes}{fidelity}, {p.cores} cores, {p.bound}"
        )
    mode = "traced" if traced else "untraced"
    lines += [
        "",
        f"device kernels {t.kernel_ms:.2f} ms; host dispatch {t.dispatch_ms:.2f} ms (untraced); PCIe {t.transfer_ms:.2f} ms",
        f"end to end ({mode}) {t.end_to_end_ms(traced):.2f} ms; RTF {run.rtf(traced):.4f}",
    ]
    phones = run.phones_per_second(traced)
    if phones is not None:
        lines.append(f"phones per second ({mode}): {phones:.0f} ({run.tokens} symbols per sentence, blanks included)")
    return "\n".join(lines)


# MeloTTS speaks a text sentence by sentence (demo/speak.py): longer speech is modelled as sentences of at most
# this many seconds run one after another (a single 20 s sentence also needs > 22 GB on the mock).
MAX_SENTENCE_S = 10.0


def sentences(run: ModelledRun, count: int) -> ModelledRun:
    """`count` sentences like `run`, one after another."""
    t = run.time
    time = wm.ForwardTime(t.predictions * count, t.transfers_bytes * count)
    return ModelledRun(run.name, run.audio_seconds * count, run.batch, run.tokens, time)


def bounty_table(device: Any, batch: int = 1, print_rows: bool = True) -> list[str]:
    """Per model and length: programs, device kernel ms, end to end untraced / traced, RTF; all modelled. speak
    = MeloTTS then the converter on its audio; MeloTTS beyond `MAX_SENTENCE_S` as consecutive sentences."""
    lines = [
        "| model | audio s | programs | device kernels ms | end to end untraced ms | end to end traced ms | RTF untraced | RTF traced |",
        "|---|---|---|---|---|---|---|---|",
    ]
    if print_rows:
        print("\n".join(lines), flush=True)
    cache: dict[tuple[str, float], ModelledRun] = {}

    def base(model: str, seconds: float) -> ModelledRun:
        count = math.ceil(seconds / MAX_SENTENCE_S) if model == "melotts" else 1
        key = (model, seconds / count)
        if key not in cache:
            cache[key] = modelled_run(device, model, seconds / count, batch)
        return sentences(cache[key], count)

    for model, lengths in BOUNTY_SECONDS.items():
        for seconds in lengths:
            run = combine("speak", [base("melotts", seconds), base("converter", seconds)]) if model == "speak" else base(model, seconds)
            t = run.time
            lines.append(
                f"| {model} | {run.audio_seconds:.2f} | {len(t.predictions)} | {t.kernel_ms:.2f} | {t.end_to_end_ms(False):.2f} "
                f"| {t.end_to_end_ms(True):.2f} | {run.rtf(False):.4f} | {run.rtf(True):.4f} |"
            )
            if print_rows:
                print(lines[-1], flush=True)
    return lines


# ---- the modelled ops CSV (tt-metal's ops report columns) -------------------------------------------------------
DATA_SOURCE = "DATA SOURCE"
CSV_COLUMNS = (
    "OP CODE",
    "OP TYPE",
    "GLOBAL CALL COUNT",
    "DEVICE ID",
    "DEVICE ARCH",
    "ATTRIBUTES",
    "MATH FIDELITY",
    "CORE COUNT",
    "DEVICE KERNEL DURATION [ns]",
    "INPUT_0_W_PAD[LOGICAL]",
    "INPUT_0_Z_PAD[LOGICAL]",
    "INPUT_0_Y_PAD[LOGICAL]",
    "INPUT_0_X_PAD[LOGICAL]",
    "INPUT_0_LAYOUT",
    "INPUT_0_DATATYPE",
    "INPUT_0_MEMORY",
    "OUTPUT_0_W_PAD[LOGICAL]",
    "OUTPUT_0_Z_PAD[LOGICAL]",
    "OUTPUT_0_Y_PAD[LOGICAL]",
    "OUTPUT_0_X_PAD[LOGICAL]",
    "OUTPUT_0_LAYOUT",
    "OUTPUT_0_DATATYPE",
    "OUTPUT_0_MEMORY",
    "BOUND",
    DATA_SOURCE,
)


def _tensor_columns(prefix: str, spec: wm.TensorSpec | None) -> dict[str, str]:
    if spec is None:
        return {}
    dims = (1,) * (4 - len(spec.shape)) + tuple(spec.shape[-4:])
    columns = {f"{prefix}_{axis}_PAD[LOGICAL]": str(d) for axis, d in zip("WZYX", dims)}
    memory = f"DEV_0_{spec.buffer}_{spec.memory_layout}"
    columns.update({f"{prefix}_LAYOUT": spec.layout, f"{prefix}_DATATYPE": spec.dtype, f"{prefix}_MEMORY": memory})
    return columns


def write_csv(path: Path, runs: Sequence[ModelledRun]) -> None:
    """The programs of `runs` as an ops report: start, per model its signpost and programs, stop."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        signpost = lambda code, message="": writer.writerow(
            {"OP CODE": code, "OP TYPE": "signpost", "ATTRIBUTES": message, DATA_SOURCE: wm.MODELLED}
        )  # noqa: E731
        signpost("start")
        count = 0
        for run in runs:
            signpost(run.name, signpost_message(1, run.audio_seconds * run.batch))
            for p in run.time.predictions:
                count += 1
                row = {
                    "OP CODE": p.op_code,
                    "OP TYPE": "tt_dnn_device",
                    "GLOBAL CALL COUNT": count,
                    "DEVICE ID": 0,
                    "DEVICE ARCH": "WORMHOLE_B0",
                    "ATTRIBUTES": p.record.call,
                    "MATH FIDELITY": p.record.math_fidelity,
                    "CORE COUNT": p.cores,
                    "DEVICE KERNEL DURATION [ns]": round(p.kernel_us * 1e3),
                    "BOUND": p.bound,
                    DATA_SOURCE: wm.MODELLED,
                }
                row.update(_tensor_columns("INPUT_0", p.record.inputs[0] if p.record.inputs else None))
                row.update(_tensor_columns("OUTPUT_0", p.record.outputs[0] if p.record.outputs else None))
                writer.writerow(row)
        signpost("stop")
    logger.info(f"wrote {count} modelled programs to {path}")


def write_png(path: Path, runs: Sequence[ModelledRun]) -> None:
    """Stacked bars: modelled device time per op type, one bar per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = [{row["op_code"]: row["us"] / 1e3 for row in wm.by_op_type(run.time.predictions)} for run in runs]
    op_types = sorted({op for table in tables for op in table}, key=lambda op: -sum(t.get(op, 0.0) for t in tables))
    fig, ax = plt.subplots(figsize=(9, 5))
    bottoms = [0.0] * len(runs)
    labels = [f"{run.name}\n{run.audio_seconds:.1f} s x {run.batch}" for run in runs]
    for op in op_types:
        values = [table.get(op, 0.0) for table in tables]
        ax.bar(labels, values, bottom=bottoms, label=op.replace("DeviceOperation", ""))
        bottoms = [b + v for b, v in zip(bottoms, values)]
    ax.set_ylabel("device kernel time per forward [ms]")
    ax.set_title(f"Time per op type ({wm.MODELLED}, Wormhole N150)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    logger.info(f"wrote {path}")


# ---- validation on published Wormhole figures ----------------------------------------------------------------
@dataclass(frozen=True)
class Published:
    name: str
    figure: float
    unit: str  # "us" or "GB/s"
    source: str
    predict: Callable[[Any], float]  # device -> the model's figure for the same case


def _capture_one(device: Any, call: Callable[[], Any]) -> wm.ForwardTime:
    from models.demos.openvoice.utils.graph_report import capture

    return wm.model_graph(capture(call).graph)


def _matmul_case(m: int, k: int, n: int, dtype: str, fidelity: str) -> Callable[[Any], wm.ForwardTime]:
    """tech_reports/GEMM_FLOPS's out-of-box N150 setup: in0, in1 and out DRAM-interleaved, 8x8 grid (built once
    per device: the device, untraced and traced rows share it)."""
    built: dict[int, wm.ForwardTime] = {}

    def run(device: Any) -> wm.ForwardTime:
        if id(device) not in built:
            built[id(device)] = build(device)
        return built[id(device)]

    def build(device: Any) -> wm.ForwardTime:
        import torch
        import ttnn

        data_type = getattr(ttnn, dtype)
        a = ttnn.from_torch(torch.randn(m, k), dtype=data_type, layout=ttnn.TILE_LAYOUT, device=device)
        b = ttnn.from_torch(torch.randn(k, n), dtype=data_type, layout=ttnn.TILE_LAYOUT, device=device)
        config = ttnn.init_device_compute_kernel_config(
            device.arch(),
            math_fidelity=getattr(ttnn.MathFidelity, fidelity),
            fp32_dest_acc_en=False,
            packer_l1_acc=True,
        )
        call = lambda: ttnn.matmul(
            a, b, dtype=data_type, compute_kernel_config=config, core_grid=ttnn.CoreGrid(y=8, x=8)
        )  # noqa: E731
        return _capture_one(device, call)

    return run


def _kernel_us(case: Callable[[Any], wm.ForwardTime]) -> Callable[[Any], float]:
    return lambda device: case(device).kernel_ms * 1e3


def _loop_us(case: Callable[[Any], wm.ForwardTime], traced: bool) -> Callable[[Any], float]:
    """One op called in a host loop: per iteration, untraced the larger of dispatch and kernel + gap."""
    return lambda device: case(device).end_to_end_ms(traced) * 1e3 - (wm.TRACE_LAUNCH_US if traced else 0.0)


def _device_us(ideal_cycles: float, utilization_percent: float) -> float:
    """GEMM_FLOPS's device time from its published device utilization: ideal cycles / utilization at 1 GHz."""
    return ideal_cycles / (utilization_percent / 100) / 1e3


def _gemm_ideal_cycles(m: int, k: int, n: int, fidelity: str) -> float:
    return m * k * n / 32**3 * 16 * wm.FIDELITY_PHASES[fidelity] / 64


def _audio_rate_case(op: str) -> Callable[[Any], float]:
    """A 1.067 s waveform-rate activation of HiFi-GAN's last stage ([1, 1, 23527, 32] bf16, DRAM), the size
    the peer port's per-op-type Tracy averages come from (its op mix is not published: one op each)."""

    def run(device: Any) -> float:
        import torch
        import ttnn

        x = ttnn.from_torch(torch.randn(1, 1, 23527, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
        calls = {
            "add": lambda: ttnn.add(x, x),
            "leaky_relu": lambda: ttnn.leaky_relu(x, negative_slope=0.1),
            "slice": lambda: ttnn.slice(x, [0, 0, 0, 0], [1, 1, 23527, 16]),
        }
        return _capture_one(device, calls[op]).kernel_ms * 1e3

    return run


def _dram_read_gb_s(device: Any) -> float:
    """A DRAM-bound read: ttnn.sum over a 32 MiB bf16 tensor (reads it once, writes one row)."""
    import torch
    import ttnn

    x = ttnn.from_torch(torch.randn(1, 1, 4096, 4096), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    time = _capture_one(device, lambda: ttnn.sum(x, dim=-2, keepdim=True))
    return 4096 * 4096 * 2 / (time.kernel_ms * 1e-3) / 1e9


GEMM = "tech_reports/GEMM_FLOPS (N150 out of box, DRAM in/out)"
PEER = "tt-metal PR #36286 (OpenVoice, Tracy, 1.067 s audio)"
VALIDATION: tuple[Published, ...] = (
    Published(
        "matmul 512^3 bf16 HiFi2, device",
        _device_us(_gemm_ideal_cycles(512, 512, 512, "HiFi2"), 19.04),
        "us",
        GEMM + ": device utilization 19.04 %",
        _kernel_us(_matmul_case(512, 512, 512, "bfloat16", "HiFi2")),
    ),
    Published(
        "matmul 512^3 bf16 HiFi2, untraced loop",
        49.05,
        "us",
        GEMM,
        _loop_us(_matmul_case(512, 512, 512, "bfloat16", "HiFi2"), traced=False),
    ),
    Published(
        "matmul 512^3 bf16 HiFi2, traced loop",
        19.97,
        "us",
        GEMM,
        _loop_us(_matmul_case(512, 512, 512, "bfloat16", "HiFi2"), traced=True),
    ),
    Published(
        "matmul 1024^3 bf16 HiFi2, device",
        _device_us(_gemm_ideal_cycles(1024, 1024, 1024, "HiFi2"), 41.69),
        "us",
        GEMM + ": device utilization 41.69 %",
        _kernel_us(_matmul_case(1024, 1024, 1024, "bfloat16", "HiFi2")),
    ),
    Published(
        "matmul 1024^3 bf16 HiFi2, untraced loop",
        72.39,
        "us",
        GEMM,
        _loop_us(_matmul_case(1024, 1024, 1024, "bfloat16", "HiFi2"), traced=False),
    ),
    Published(
        "matmul 1024^3 bf16 HiFi2, traced loop",
        68.98,
        "us",
        GEMM,
        _loop_us(_matmul_case(1024, 1024, 1024, "bfloat16", "HiFi2"), traced=True),
    ),
    Published(
        "matmul 2048^3 bf16 HiFi2, device",
        _device_us(_gemm_ideal_cycles(2048, 2048, 2048, "HiFi2"), 66.74),
        "us",
        GEMM + ": device utilization 66.74 %",
        _kernel_us(_matmul_case(2048, 2048, 2048, "bfloat16", "HiFi2")),
    ),
    Published(
        "matmul 2048^3 bf16 HiFi2, untraced loop",
        302.2,
        "us",
        GEMM,
        _loop_us(_matmul_case(2048, 2048, 2048, "bfloat16", "HiFi2"), traced=False),
    ),
    Published(
        "matmul 4096^3 bf16 HiFi2, untraced loop",
        2016.8,
        "us",
        GEMM,
        _loop_us(_matmul_case(4096, 4096, 4096, "bfloat16", "HiFi2"), traced=False),
    ),
    Published(
        "matmul 2048^3 bfloat8_b LoFi, device",
        _device_us(_gemm_ideal_cycles(2048, 2048, 2048, "LoFi"), 63.83),
        "us",
        GEMM + ": device utilization 63.83 %",
        _kernel_us(_matmul_case(2048, 2048, 2048, "bfloat8_b", "LoFi")),
    ),
    Published(
        "matmul 2048^3 bfloat8_b LoFi, untraced loop",
        157.2,
        "us",
        GEMM,
        _loop_us(_matmul_case(2048, 2048, 2048, "bfloat8_b", "LoFi"), traced=False),
    ),
    Published(
        "DRAM read bandwidth (ttnn.sum of 32 MiB)",
        267.0,
        "GB/s",
        "tech_reports/Saturating_DRAM_bandwidth: u-benchmark at 12 GBps",
        _dram_read_gb_s,
    ),
    Published(
        "op-to-op gap, traced (published: below 6 us)",
        6.0,
        "us",
        "tech_reports/LLMs",
        lambda device: wm.OP_TO_OP_GAP_US,
    ),
    Published("BinaryNg on audio-rate activations", 11.6, "us", PEER + ": BinaryNg average", _audio_rate_case("add")),
    Published("Unary on audio-rate activations", 13.6, "us", PEER + ": Unary average", _audio_rate_case("leaky_relu")),
    Published("Slice on audio-rate activations", 15.6, "us", PEER + ": Slice average", _audio_rate_case("slice")),
    Published(
        "host dispatch, 1,594 programs untraced",
        22.1e3,
        "us",
        PEER + ": 22.1 ms host",
        lambda device: 1594 * wm.HOST_US_PER_PROGRAM,
    ),
)


@dataclass(frozen=True)
class Check:
    case: Published
    predicted: float

    @property
    def ratio(self) -> float:
        return self.predicted / self.case.figure

    @property
    def within(self) -> bool:
        return RATIO_RANGE[0] <= self.ratio <= RATIO_RANGE[1]


def validate(device: Any, cases: Sequence[Published] = VALIDATION) -> list[Check]:
    return [Check(case, case.predict(device)) for case in cases]


def format_checks(checks: Sequence[Check]) -> str:
    lines = [f"{'case':<48} {'modelled':>10} {'published':>10} {'ratio':>6}  source"]
    for c in checks:
        flag = "" if c.within else "  OUTSIDE [0.5, 2]"
        lines.append(
            f"{c.case.name:<48} {c.predicted:>10.2f} {c.case.figure:>10.2f} {c.ratio:>6.2f}  {c.case.source} [{c.case.unit}]{flag}"
        )
    return "\n".join(lines)


# ---- CLI -----------------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=MODELS, default="converter")
    parser.add_argument("--seconds", type=float, default=5.0, help="audio per item (clone: the reference clip)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--traced", action="store_true", help="end to end with trace (no host dispatch per program)")
    parser.add_argument(
        "--device-mode",
        choices=("auto", "mock", "card"),
        default=None,
        help="the device to capture on (default: $OPENVOICE_DEVICE, else auto)",
    )
    parser.add_argument("--csv", type=Path, help="write the modelled programs in tt-metal's ops-report columns")
    parser.add_argument("--png", type=Path, help="draw time per op type")
    parser.add_argument("--validate", action="store_true", help="check the model on published Wormhole figures")
    parser.add_argument("--bounty", action="store_true", help="the per-model, per-length table (several minutes)")
    parser.add_argument("--rank", action="store_true", help="price the open design choices on the converter at --seconds")
    args = parser.parse_args(argv)
    if args.device_mode is not None:
        import os

        os.environ["OPENVOICE_DEVICE"] = args.device_mode
    from models.demos.openvoice.utils.device import close_device, open_device

    device = open_device()
    try:
        if args.validate:
            checks = validate(device)
            print(format_checks(checks))
            return 0 if all(c.within for c in checks) else 1
        if args.rank:
            print(f"Design choices priced ({wm.MODELLED}; Wormhole N150):\n")
            print("\n".join(rank_converter_choices(device, args.seconds)))
            return 0
        if args.bounty:
            print(f"Predicted per-forward time ({wm.MODELLED}; Wormhole N150, batch {args.batch}):\n")
            bounty_table(device, args.batch)
            return 0
        run = modelled_run(device, args.model, args.seconds, args.batch)
        print(format_run(run, args.traced))
        if args.csv:
            write_csv(args.csv, [run])
        if args.png:
            write_png(args.png, [run])
    finally:
        close_device(device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
