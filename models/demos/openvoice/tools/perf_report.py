# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Per-op-type tables and per-model device time from tt-metal's ops report, or from graph capture on the mock.

On a Tenstorrent card (tt-metal profiler tools needed: see the README, "Tracy"):

    python -m tracy -r -p -v -m pytest models/demos/openvoice/tests/test_perf_device_openvoice.py::test_perf_device_bare_metal
    python -m models.demos.openvoice.tools.perf_report [generated/profiler/reports/<date>/ops_perf_results_<date>.csv]

Without a path the newest `ops_perf_results_*.csv` under `$TT_METAL_PROFILER_DIR`, else
`$TT_METAL_HOME/generated/profiler`, else `./generated/profiler` is read. Here, where no
card exists:

    python -m models.demos.openvoice.tools.perf_report --graph [--tts]

builds the same workloads on the device (the mock Wormhole here) and prints the same per-op-type tables from a
graph capture of one warm iteration: counts only (the mock has no device time). A CSV written by
`tools/device_model.py --csv` reads like a Tracy report, labelled "MODELLED, NOT MEASURED"; on a card,
`perf_report <tracy ops CSV> --model <modelled CSV>` prints measured vs modelled kernel time per op type.

The ops report (tt-metal `tools/tracy/process_ops_logs.py`) has one row per program run on a
device: "OP CODE" (e.g. MatmulDeviceOperation), "OP TYPE" ("tt_dnn_device"; "signpost" for
markers), "DEVICE ID", "GLOBAL CALL COUNT", "DEVICE KERNEL DURATION [ns]", ... A
`tracy.signpost(header, message)` becomes a row with OP CODE = header, OP TYPE = "signpost" and
ATTRIBUTES = message. The perf test (`run_profiled`) writes, in order:

    start | <model> "iterations=N audio_seconds=S" | N warm iterations of that model | <next model> ... | stop

("start"/"stop" are tt-metal's `has_signposts` window, so tt-metal's own `post_process_ops_log`
measures the same ops). Every op between a model signpost and the next signpost belongs to
that model; ops outside the window (warm-up, uploads) are ignored. A report without any
signpost is read as one model, "all".

Outputs: the per-op-type table (count, count per iteration, total device kernel time,
share of the model's time), a per-model summary (device kernel ms per iteration, RTF =
that time / audio seconds) and `check_model_times`: every model of one report against expected
* (1 +- margin) and optional upper budgets (the bounty's RTF targets). The per-model pytest check is
tt-metal's own harness (`run_device_perf` -> `check_device_perf`, tests/test_perf_device_openvoice.py).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from loguru import logger

from models.demos.openvoice.demo.figures import fmt

# Column names of tt-metal's ops_perf_results_*.csv (tools/tracy/process_ops_logs.py OPS_CSV_HEADER).
OP_CODE = "OP CODE"
OP_TYPE = "OP TYPE"
DEVICE_ID = "DEVICE ID"
GLOBAL_CALL_COUNT = "GLOBAL CALL COUNT"
ATTRIBUTES = "ATTRIBUTES"
KERNEL_NS = "DEVICE KERNEL DURATION [ns]"
# Not a tt-metal column: tools/device_model.py writes "modelled, not measured" here; a Tracy report has none.
DATA_SOURCE = "DATA SOURCE"
SIGNPOST = "signpost"
WINDOW_START, WINDOW_STOP = "start", "stop"
UNMARKED = "all"
REPORT_GLOB = "ops_perf_results*.csv"

CONVERTER, CLONE, MELO_TTS = "converter", "clone", "melo_tts"


# ---- reading the ops report --------------------------------------------------------------------
@dataclass(frozen=True)
class OpRow:
    """One row of the ops report: a device program run, or a signpost."""

    op_code: str
    op_type: str
    device_id: int | None
    global_call_count: int | None
    kernel_ns: float | None  # None: no device data (signposts, host-only rows)
    attributes: str = ""
    data_source: str = ""  # "" for a profiler measurement; tools/device_model.py's rows say "modelled, not measured"

    @property
    def is_signpost(self) -> bool:
        return self.op_type == SIGNPOST


def _number(value: str | None) -> float | None:
    """A numeric cell; tt-metal writes "" or "-" where a row has no device data."""
    value = (value or "").strip()
    if value in ("", "-", "nan"):
        return None
    return float(value)


def read_ops_report(path: Path) -> list[OpRow]:
    """The rows of an ops_perf_results CSV, in report (time) order."""
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {OP_CODE, OP_TYPE, KERNEL_NS} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path} is not a tt-metal ops report: missing column(s) {sorted(missing)}")
        rows = []
        for row in reader:
            device, call = _number(row.get(DEVICE_ID)), _number(row.get(GLOBAL_CALL_COUNT))
            rows.append(
                OpRow(
                    op_code=row[OP_CODE].strip(),
                    op_type=row[OP_TYPE].strip(),
                    device_id=None if device is None else int(device),
                    global_call_count=None if call is None else int(call),
                    kernel_ns=_number(row.get(KERNEL_NS)),
                    attributes=(row.get(ATTRIBUTES) or "").strip(),
                    data_source=(row.get(DATA_SOURCE) or "").strip(),
                )
            )
    return rows


def profiler_root() -> Path:
    """Where tt-metal's profiler writes (tracy/common.py: PROFILER_ARTIFACTS_DIR)."""
    if os.environ.get("TT_METAL_PROFILER_DIR"):
        return Path(os.environ["TT_METAL_PROFILER_DIR"])
    return Path(os.environ.get("TT_METAL_HOME", Path.cwd())) / "generated" / "profiler"


def latest_ops_report(root: Path | None = None) -> Path:
    """The newest ops_perf_results_*.csv under `root` (`<root>[/<subdir>]/reports/<date>/...`)."""
    root = profiler_root() if root is None else Path(root)
    reports = [p for p in root.glob(f"**/reports/*/{REPORT_GLOB}") if p.is_file()]
    if not reports:
        raise FileNotFoundError(
            f"no {REPORT_GLOB} under {root}/**/reports/: run the profiling command first "
            "(python -m tracy -r -p -v -m pytest models/demos/openvoice/tests/"
            "test_perf_device_openvoice.py::test_perf_device_bare_metal) or pass the CSV path"
        )
    return max(reports, key=lambda p: (p.stat().st_mtime, p.parent.name))


# ---- models and per-op-type tables ----------------------------------------------------------------
def signpost_message(iterations: int, audio_seconds: float) -> str:
    """The ATTRIBUTES text of a model signpost (no ": ", which tt-metal's parser splits on)."""
    return f"iterations={iterations} audio_seconds={audio_seconds:g}"


def _parse_message(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.replace(";", " ").split() if "=" in part)


@dataclass
class ModelRun:
    """The ops one model ran in the measured window (all its iterations)."""

    name: str
    iterations: int = 1
    audio_seconds: float | None = None
    ops: list[OpRow] = field(default_factory=list)

    @property
    def timed(self) -> bool:
        return any(op.kernel_ns is not None for op in self.ops)

    @property
    def kernel_ms(self) -> float | None:
        """Total device kernel time of all iterations (None without device data)."""
        if not self.timed:
            return None
        return sum(op.kernel_ns or 0.0 for op in self.ops) / 1e6

    @property
    def kernel_ms_per_iteration(self) -> float | None:
        total = self.kernel_ms
        return None if total is None else total / self.iterations

    @property
    def rtf(self) -> float | None:
        """Device-kernel real-time factor: kernel seconds per iteration / audio seconds."""
        per_iteration = self.kernel_ms_per_iteration
        if per_iteration is None or not self.audio_seconds:
            return None
        return per_iteration / 1000.0 / self.audio_seconds


def split_models(rows: Iterable[OpRow]) -> list[ModelRun]:
    """Group device ops by the model signpost before them (see the module docstring)."""
    rows = list(rows)
    if not any(r.is_signpost for r in rows):
        return [ModelRun(UNMARKED, ops=[r for r in rows if not r.is_signpost])]
    runs: dict[str, ModelRun] = {}
    current: ModelRun | None = None
    for row in rows:
        if row.is_signpost:
            if row.op_code in (WINDOW_START, WINDOW_STOP):
                current = None
                continue
            meta = _parse_message(row.attributes)
            if row.op_code in runs:
                raise ValueError(f"model signpost {row.op_code!r} appears twice in the report")
            current = runs[row.op_code] = ModelRun(
                row.op_code,
                iterations=int(meta.get("iterations", 1)),
                audio_seconds=float(meta["audio_seconds"]) if "audio_seconds" in meta else None,
            )
        elif current is not None:
            current.ops.append(row)
    return list(runs.values())


@dataclass(frozen=True)
class OpTypeRow:
    op_code: str
    count: int
    per_iteration: float
    kernel_ms: float | None  # None on the mock
    share: float | None  # of the model's device kernel time


def op_type_table(run: ModelRun) -> list[OpTypeRow]:
    """Per OP CODE: count, count per iteration, total kernel time, share; slowest (else most frequent) first."""
    counts: Counter[str] = Counter(op.op_code for op in run.ops)
    total = run.kernel_ms
    rows = []
    for code, count in counts.items():
        ms = sum(op.kernel_ns or 0.0 for op in run.ops if op.op_code == code) / 1e6 if total is not None else None
        share = ms / total if total and ms is not None else None
        rows.append(OpTypeRow(code, count, count / run.iterations, ms, share))
    return sorted(rows, key=lambda r: (-(r.kernel_ms or 0.0), -r.count, r.op_code))


def format_op_table(run: ModelRun) -> str:
    rows = op_type_table(run)
    lines = [
        f"{run.name}: {len(run.ops)} device ops over {run.iterations} iteration(s)",
        f"{'op code':<40} {'count':>7} {'per iter':>9} {'kernel ms':>10} {'share':>7}",
    ]
    for r in rows:
        share = "-" if r.share is None else f"{100.0 * r.share:.1f}%"
        lines.append(f"{r.op_code:<40} {r.count:>7} {r.per_iteration:>9.4g} {fmt(r.kernel_ms, '.3f'):>10} {share:>7}")
    lines.append(
        f"{'total':<40} {len(run.ops):>7} {len(run.ops) / run.iterations:>9.4g} {fmt(run.kernel_ms, '.3f'):>10} "
        f"{'100.0%' if run.timed else '-':>7}"
    )
    return "\n".join(lines)


def format_summary(runs: Sequence[ModelRun]) -> str:
    lines = [
        f"{'model':<12} {'iters':>5} {'ops/iter':>9} {'audio s':>8} {'kernel ms/iter':>15} {'RTF (kernel)':>13}",
    ]
    for run in runs:
        lines.append(
            f"{run.name:<12} {run.iterations:>5} {len(run.ops) / run.iterations:>9.4g} {fmt(run.audio_seconds, 'g'):>8} "
            f"{fmt(run.kernel_ms_per_iteration, '.3f'):>15} {fmt(run.rtf, '.4f'):>13}"
        )
    lines.append("RTF (kernel): summed device kernel time of one iteration / audio seconds (no host or dispatch time)")
    return "\n".join(lines)


# ---- tt-metal's expected-value check -----------------------------------------------------------------
@dataclass(frozen=True)
class PerfCheck:
    model: str
    measured_ms: float | None
    expected_ms: float | None
    margin: float
    budget_ms: float | None
    status: str  # "ok", "too slow", "faster than expected", "over budget", "missing", "not calibrated"

    @property
    def failed(self) -> bool:
        return self.status not in ("ok", "not calibrated")

    def describe(self) -> str:
        window = "-"
        if self.expected_ms is not None:
            low, high = (1 - self.margin) * self.expected_ms, (1 + self.margin) * self.expected_ms
            window = f"{self.expected_ms:.3f} ms +-{100 * self.margin:g}% [{low:.3f}, {high:.3f}]"
        budget = "-" if self.budget_ms is None else f"<= {self.budget_ms:.3f} ms"
        advice = {
            "faster than expected": " (update the expected value to the new measurement)",
            "not calibrated": " (set the expected value to this measurement)",
            "missing": " (no ops of this model in the report: was it profiled?)",
        }.get(self.status, "")
        return (
            f"{self.model:<12} measured {fmt(self.measured_ms, '.3f')} ms/iter, expected {window}, "
            f"budget {budget}: {self.status.upper()}{advice}"
        )


def check_model_times(
    runs: Sequence[ModelRun],
    expected_ms: Mapping[str, float | None],
    margin: float,
    budget_ms: Mapping[str, float] | None = None,
) -> list[PerfCheck]:
    """Per model in `expected_ms`: device kernel ms per iteration against expected * (1 +- margin)
    (None = not measured on a card yet: only the budget applies) and an optional upper budget."""
    by_name = {run.name: run for run in runs}
    budget_ms = budget_ms or {}
    checks = []
    for model, expected in expected_ms.items():
        run = by_name.get(model)
        measured = None if run is None else run.kernel_ms_per_iteration
        budget = budget_ms.get(model)
        if measured is None:
            status = "missing"
        elif budget is not None and measured > budget:
            status = "over budget"
        elif expected is None:
            status = "not calibrated"
        elif measured > (1 + margin) * expected:
            status = "too slow"
        elif measured < (1 - margin) * expected:
            status = "faster than expected"
        else:
            status = "ok"
        checks.append(PerfCheck(model, measured, expected, margin, budget, status))
    return checks


def assert_model_times(checks: Sequence[PerfCheck]) -> None:
    """Fail with one readable line per model when any check failed."""
    report = "\n".join(check.describe() for check in checks)
    logger.info("device kernel time per iteration:\n" + report)
    failed = [check.model for check in checks if check.failed]
    assert not failed, f"device performance outside the expected range for {', '.join(failed)}:\n{report}"


# ---- the profiled workloads (card) and their graph capture (mock) -------------------------------------
@dataclass(frozen=True)
class Workload:
    """One model's warm device iteration: inputs uploaded, weights prepared, program cache filled."""

    name: str
    audio_seconds: float
    run: Callable[[], Any]
    batch: int = 1
    tokens: int = 0  # MeloTTS: input symbols per item (phones with blanks)
    io_bytes: tuple[int, ...] = ()  # host <-> device copies of one iteration (uploads, the sync, downloads)


def converter_workload(
    device: Any,
    seconds: float,
    config: Path | None = None,
    batch: int = 1,
    plan: dict | None = None,
    fp32_stages: int | None = None,
) -> Workload:
    """Warm `TtToneColorConverter.forward` at `seconds` of audio, `batch` items (release shapes, seeded weights).
    `plan` (tt/precision.py) and `fp32_stages` (the generator's float32 tail) price design options."""
    import torch

    from models.demos.openvoice.utils.config import DataConfig
    from models.demos.openvoice.demo.benchmark_converter import release_model
    from models.demos.openvoice.tt.tone_color_converter import TtToneColorConverter

    model = release_model(config=config, checkpoint=None)
    tt = TtToneColorConverter(device, model, plan)
    if fp32_stages is not None:
        from models.demos.openvoice.tt.generator import TtGenerator
        from models.demos.openvoice.tt.precision import precision_of

        arguments = precision_of("generator", plan).conv_arguments(device)
        tt.dec = TtGenerator(device, model.dec, zero_cond=tt.zero_g, fp32_stages=fp32_stages, **arguments)
    data = DataConfig()
    frames = math.ceil(seconds * data.sampling_rate / data.hop_length)
    gin = model.flow.flows[0].enc.gin_channels
    torch.manual_seed(0)
    spec = torch.rand(batch, data.spec_channels, frames) * 2.0  # content does not change ops or timing
    g_src, g_tgt = torch.randn(2, batch, gin, 1) * 0.1
    inputs = tt.prepare_inputs(spec, torch.tensor([frames] * batch), g_src, g_tgt, tau=0.3)
    tt.forward(inputs)  # first call at this length: conv weight preparation, program cache
    io = (spec.numel() * 4, batch * model.enc_q.out_channels * frames * 4, batch * frames * data.hop_length * 4)
    seconds = frames * data.hop_length / data.sampling_rate
    return Workload(CONVERTER, seconds, lambda: tt.forward(inputs), batch, io_bytes=io)


def clone_workload(device: Any, seconds: float, ref_enc: Path | None = None) -> Workload:
    """Warm `TtSpeakerEncoder` (spectrogram + reference encoder) on a `seconds` reference clip."""
    import ttnn

    from models.demos.openvoice.demo.benchmark_clone import SAMPLING_RATE, _reference_encoder, synthetic_reference
    from models.demos.openvoice.tt.reference_encoder import TtSpeakerEncoder

    encoder = TtSpeakerEncoder(device, _reference_encoder(ref_enc))
    uploaded = encoder.upload(synthetic_reference(seconds))
    ttnn.to_torch(encoder(uploaded))  # warm-up: conv weights for this shape, program cache
    io = (int(seconds * SAMPLING_RATE) * 4, 256 * 4)  # the clip up, the embedding down
    return Workload(CLONE, seconds, lambda: encoder(uploaded), io_bytes=io)


def tts_workload(device: Any, seconds: float, batch: int = 1) -> Workload:
    """Warm `TtMeloTTS.infer_all` on `batch` sentences (release shape, seeded weights, durations pinned so the
    length is known)."""
    import torch

    from models.demos.openvoice.demo import benchmark_tts as bench
    from models.demos.openvoice.tt.melo_tts import TtMeloTTS

    tt = TtMeloTTS(device, bench.pin_durations(bench.release_model()))
    tokens = math.ceil(math.ceil(seconds * bench.SAMPLING_RATE / bench.HOP_LENGTH) / bench.FRAMES_PER_TOKEN)
    frames = tokens * bench.FRAMES_PER_TOKEN
    inputs = tt.prepare_inputs(**bench.sentence_batch([tokens] * batch))
    eps_p = torch.randn(batch, tt.inter_channels, frames, generator=torch.Generator().manual_seed(0))
    call = lambda: tt.infer_all(inputs, sdp_ratio=0.0, eps_p=eps_p)  # noqa: E731
    call()  # warm-up
    # uploads: ids/tones/languages, BERT 1024 + 768 features, the SDP noise; the one sync (lengths); the audio
    io = (batch * tokens * (3 * 4 + (1024 + 768 + 2) * 4), batch * 4, batch * frames * bench.HOP_LENGTH * 4)
    seconds = frames * bench.HOP_LENGTH / bench.SAMPLING_RATE
    return Workload(MELO_TTS, seconds, call, batch, tokens, io)


def tts_available() -> str | None:
    """None when TtMeloTTS can be imported, else why not (the perf test then profiles the converter and clone only)."""
    try:
        from models.demos.openvoice.demo import benchmark_tts  # noqa: F401
        from models.demos.openvoice.tt.melo_tts import TtMeloTTS  # noqa: F401
    except ImportError as error:
        return f"TtMeloTTS not importable: {error}"
    return None


def build_workloads(
    device: Any,
    converter_seconds: float,
    clone_seconds: float,
    tts_seconds: float | None = None,
    config: Path | None = None,
    ref_enc: Path | None = None,
) -> list[Workload]:
    workloads = [converter_workload(device, converter_seconds, config), clone_workload(device, clone_seconds, ref_enc)]
    if tts_seconds is not None:
        workloads.append(tts_workload(device, tts_seconds))
    return workloads


def run_profiled(device: Any, workloads: Sequence[Workload], iterations: int, signpost: Callable[..., None]) -> None:
    """The measured window of the ops report: start, then per model its signpost and `iterations`
    warm runs, then stop. `signpost` is `tracy.signpost` on a card."""
    import ttnn

    profiling = os.environ.get("TT_METAL_DEVICE_PROFILER") == "1"
    ttnn.synchronize_device(device)
    if profiling:
        ttnn.ReadDeviceProfiler(device)  # flush set-up and warm-up ops out of the device buffer
    signpost(WINDOW_START)
    for workload in workloads:
        signpost(workload.name, signpost_message(iterations, workload.audio_seconds))
        for _ in range(iterations):
            workload.run()
            ttnn.synchronize_device(device)
            if profiling:
                ttnn.ReadDeviceProfiler(device)  # one iteration at a time stays within the profiler's op buffer
    signpost(WINDOW_STOP)


def device_ops(graph: list[dict]) -> list[str]:
    """The OP CODE of every program run in a captured graph, in order: each `program_execution` node
    is named after the innermost device operation open around it (what the ops report lists)."""
    open_functions: list[str] = []
    codes = []
    for node in graph:
        kind = node.get("node_type")
        if kind == "function_start":
            open_functions.append((node.get("params") or {}).get("name", "?"))
        elif kind == "function_end" and open_functions:
            open_functions.pop()
        elif kind == "program_execution":
            device_op = next((name for name in reversed(open_functions) if name.endswith("DeviceOperation")), None)
            codes.append(device_op or (open_functions[-1] if open_functions else "?"))
    return codes


def capture_run(workload: Workload) -> tuple[ModelRun, Any]:
    """One warm iteration of `workload` under graph capture -> (ModelRun without device times, GraphReport)."""
    from models.demos.openvoice.utils.graph_report import capture

    report = capture(workload.run)
    rows = [OpRow(code, "tt_dnn_device", None, None, None) for code in device_ops(report.graph)]
    logger.info(f"{workload.name}: {len(rows)} device programs in one warm iteration")
    return ModelRun(workload.name, 1, workload.audio_seconds, rows), report


def mock_model_runs(workloads: Sequence[Workload]) -> list[ModelRun]:
    """The per-op-type tables' input on the mock: one captured warm iteration per workload."""
    return [capture_run(workload)[0] for workload in workloads]


# ---- CLI ---------------------------------------------------------------------------------------------
def modelled(runs: Sequence[ModelRun]) -> bool:
    return any(op.data_source for run in runs for op in run.ops)


def format_model_vs_measured(measured: Sequence[ModelRun], model: Sequence[ModelRun]) -> str:
    """Per model and op type: measured kernel ms (a Tracy report), modelled ms (tools/device_model.py's CSV) and
    their ratio: the device-time model's recalibration table."""
    by_name = {run.name: run for run in model}
    lines = [f"{'model':<12} {'op code':<40} {'measured ms':>12} {'modelled ms':>12} {'modelled/measured':>18}"]
    for run in measured:
        other = by_name.get(run.name) or (model[0] if len(model) == 1 else None)
        if other is None:
            lines.append(f"{run.name:<12} (no modelled run of this name)")
            continue
        modelled_ms = {row.op_code: row.kernel_ms for row in op_type_table(other)}
        for row in op_type_table(run):
            ms = modelled_ms.get(row.op_code)
            measured_ms = (row.kernel_ms or 0.0) / run.iterations
            ratio = fmt(ms / measured_ms if ms is not None and measured_ms else None, ".2f")
            lines.append(f"{run.name:<12} {row.op_code:<40} {measured_ms:>12.3f} {fmt(ms, '.3f'):>12} {ratio:>18}")
    return "\n".join(lines)


def format_report(runs: Sequence[ModelRun], source: str) -> str:
    if modelled(runs):
        source = f"{source} (MODELLED, NOT MEASURED: tools/device_model.py)"
    parts = [f"source: {source}", format_summary(runs)]
    parts += [format_op_table(run) for run in runs]
    return "\n\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", type=Path, help="ops_perf_results_*.csv (default: the newest one)")
    parser.add_argument("--graph", action="store_true", help="graph capture of one warm iteration instead (op counts, no times)")
    parser.add_argument("--tts", action="store_true", help="with --graph: MeloTTS too (slow on the mock)")
    parser.add_argument("--converter-seconds", type=float, default=5.0)
    parser.add_argument("--clone-seconds", type=float, default=10.0)
    parser.add_argument("--tts-seconds", type=float, default=5.0)
    parser.add_argument("--model", type=Path, help="a modelled CSV (tools/device_model.py --csv) to compare per op type")
    args = parser.parse_args(argv)
    if args.graph:
        if args.csv is not None:
            parser.error("--graph takes no CSV")
        from models.demos.openvoice.utils.device import close_device, is_mock_device, open_device

        start = time.perf_counter()
        device = open_device()
        try:
            workloads = build_workloads(
                device, args.converter_seconds, args.clone_seconds, args.tts_seconds if args.tts else None
            )
            runs = mock_model_runs(workloads)
        finally:
            close_device(device)
        where = "the mock Wormhole" if is_mock_device() else "the device"
        source = f"graph capture of one warm iteration per model on {where} ({time.perf_counter() - start:.0f} s)"
    else:
        try:
            path = args.csv if args.csv is not None else latest_ops_report()
        except FileNotFoundError as error:
            print(error, file=sys.stderr)
            return 1
        runs = split_models(read_ops_report(path))
        source = str(path)
    print(format_report(runs, source))
    if args.model is not None:
        print("\n" + format_model_vs_measured(runs, split_models(read_ops_report(args.model))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
