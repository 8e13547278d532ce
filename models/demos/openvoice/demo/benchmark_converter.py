# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Tone-colour converter (`voice_conversion`) on TTNN for 5 s and 10 s inputs.

    python -m models.demos.openvoice.demo.benchmark_converter [--seconds 5 10]

Per input length (ceil(seconds * 22050 / 256) frames, B = 1):

* the FIRST forward at that length (it prepares the conv weights for the input shape and
  fills the program cache), reported separately: on the mock its host transfers (host->device
  uploads of prepared weights and conv configs; device->host reads, which must be 0), on a
  real device its wall-clock time (synchronised);

* everywhere: a graph capture of each stage (posterior encoder, flow, reverse flow,
  decoder) and of the whole `forward`: op count, host transfers, peak L1 as the allocator
  saw it (a lower bound: see mock_wormhole/README.md) and the number of DRAM width
  slices the convs of that stage ran in (0 = everything fitted in L1 at once);
* on a real device: warm wall-clock latency of `forward` alone (median over `--iterations`,
  synchronised), real-time factor (latency / audio seconds), the warm END-TO-END latency of
  `voice_conversion` (host spectrogram upload + prepare_inputs + forward + audio download,
  median) and, when tt-metal's device
  profiler is enabled (TT_METAL_DEVICE_PROFILER=1, TT_METAL_PROFILER_MID_RUN_DUMP=1,
  TT_METAL_PROFILER_CPP_POST_PROCESS=1), the summed device kernel time of one forward.
  On the mock those columns are empty: its timing is host emulation, not the device.

Weights: the release config (`--config`, else its defaults) with seeded random
weights, or a real converter with `--checkpoint`; timing and op counts do not depend on them.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch
import ttnn
from loguru import logger

from models.demos.openvoice.utils.config import DataConfig, ModelConfig, OpenVoiceConfig, load_config
from models.demos.openvoice.demo.figures import fmt, median_ms, modelled_line
from models.demos.openvoice.utils.wormhole_model import ForwardTime, model_graph
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter
from models.demos.openvoice.utils.graph_report import device_to_host_transfers, dram_slices
from models.demos.openvoice.tt.tone_color_converter import TtConverterInputs, TtToneColorConverter
from models.demos.openvoice.utils.device import close_device, is_mock_device, open_device
from models.demos.openvoice.utils.graph_report import capture

DEFAULT_SECONDS = (5.0, 10.0)
STAGES = ("posterior_encoder", "flow", "reverse_flow", "generator")


@dataclass(frozen=True)
class StageFigures:
    name: str
    operations: int
    host_transfers: int
    peak_l1_bytes: int
    dram_slices: int


@dataclass(frozen=True)
class ConverterFigures:
    seconds: float
    frames: int
    samples: int
    stages: list[StageFigures]
    forward: StageFigures
    latency_ms: float | None  # warm median of forward, real device only
    kernel_ms: float | None  # device profiler, real device only
    end_to_end_ms: float | None = None  # warm median of upload + forward + download, real device only
    cold_ms: float | None = None  # first forward at this length, real device only
    cold_uploads: int | None = None  # host->device transfers of the first forward (mock)
    cold_downloads: int | None = None  # device->host transfers of the first forward (mock; must be 0)
    modelled: ForwardTime | None = None  # the device-time model on the forward's graph capture (MODELLED, NOT MEASURED)

    @property
    def rtf(self) -> float | None:
        return None if self.latency_ms is None else self.latency_ms / 1000.0 / self.seconds


def release_model(config: Path | None, checkpoint: Path | None, seed: int = 0) -> ToneColorConverter:
    """The converter to benchmark: a checkpoint if given, else seeded random release weights."""
    if checkpoint is not None:
        if config is None:
            raise ValueError("--checkpoint needs --config")
        return ToneColorConverter.load(config, checkpoint)
    cfg = load_config(config) if config is not None else OpenVoiceConfig(DataConfig(), ModelConfig(zero_g=True), "v2")
    torch.manual_seed(seed)
    return ToneColorConverter.from_config(cfg).eval()


def _figures(name: str, report) -> StageFigures:
    return StageFigures(
        name, len(report.operations), report.num_host_transfers, report.peak_l1_bytes, dram_slices(report)
    )


def _stage_reports(tt: TtToneColorConverter, inputs: TtConverterInputs) -> list[StageFigures]:
    """Capture each stage on its own, fed by the previous stage's (already computed) output;
    the generator also piece by piece (head, each upsampling stage, tail)."""
    out = tt.forward_all(inputs)
    calls: list[tuple[str, Callable[[], object]]] = [
        ("posterior_encoder", lambda: tt.encode(inputs)),
        ("flow", lambda: tt.flow_forward(inputs, out.z)),
        ("reverse_flow", lambda: tt.flow_reverse(inputs, out.z_p)),
        ("generator", lambda: tt.decode(inputs, out.z_hat)),
    ]
    figures = [_figures(name, capture(call)) for name, call in calls]
    dec, b, length = tt.dec, inputs.batch_size, inputs.length
    report = capture(dec.head, out.z_hat, b, length)
    figures.append(_figures("  gen.conv_pre", report))
    x = report.result
    for i, up in enumerate(dec.ups):
        report = capture(dec.upsample_stage, i, x, b, length)
        length *= up.stride
        figures.append(_figures(f"  gen.stage{i} x{up.stride}", report))
        x = report.result
    figures.append(_figures("  gen.conv_post", capture(dec.tail, x, b, length)))
    return figures


def _kernel_ms(device: ttnn.Device, tt: TtToneColorConverter, inputs: TtConverterInputs) -> float | None:
    """Summed device kernel time of one forward, from tt-metal's device profiler (if enabled)."""
    if os.environ.get("TT_METAL_DEVICE_PROFILER") != "1":
        return None
    ttnn.ReadDeviceProfiler(device)  # flush what the warm-up recorded
    tt.forward(inputs)
    ttnn.synchronize_device(device)
    ttnn.ReadDeviceProfiler(device)
    summaries = ttnn._ttnn.profiler.get_latest_kernel_duration_summary()
    if not summaries:
        return None
    return sum(s.avg_ns * s.count for s in summaries.values()) / 1e6



def benchmark(
    device: ttnn.Device, mock: bool, model: ToneColorConverter, seconds: Sequence[float], iterations: int = 5
) -> list[ConverterFigures]:
    tt = TtToneColorConverter(device, model)
    data = DataConfig()
    bins = data.spec_channels
    gin = model.flow.flows[0].enc.gin_channels
    results = []
    for duration in seconds:
        frames = math.ceil(duration * data.sampling_rate / data.hop_length)
        torch.manual_seed(0)
        spec = torch.rand(1, bins, frames) * 2.0  # content does not affect timing or op counts
        g_src, g_tgt = torch.randn(2, 1, gin, 1) * 0.1
        lengths = torch.tensor([frames])
        inputs = tt.prepare_inputs(spec, lengths, g_src, g_tgt, tau=0.3)
        # First call at this length: conv weight preparation for the shape, program cache.
        cold_ms = cold_uploads = cold_downloads = None
        if mock:
            cold = capture(tt.forward, inputs)
            cold_downloads = len(device_to_host_transfers(cold))
            cold_uploads = cold.num_host_transfers - cold_downloads
        else:
            ttnn.synchronize_device(device)
            start = time.perf_counter()
            tt.forward(inputs)
            ttnn.synchronize_device(device)
            cold_ms = (time.perf_counter() - start) * 1000.0
        stages = _stage_reports(tt, inputs)
        forward_report = capture(tt.forward, inputs)
        forward = _figures("forward", forward_report)
        modelled = model_graph(forward_report.graph)
        latency = kernel = end_to_end = None
        if not mock:
            latency = median_ms(lambda: tt.forward(inputs), device, iterations)
            end_to_end = median_ms(lambda: tt.voice_conversion(spec, lengths, g_src, g_tgt, tau=0.3), device, iterations)
            kernel = _kernel_ms(device, tt, inputs)
        figures = ConverterFigures(
            duration, frames, frames * tt.hop, stages, forward, latency, kernel, end_to_end, cold_ms, cold_uploads, cold_downloads,
            modelled,
        )  # fmt: skip
        logger.info(f"{duration:g} s: {forward.operations} ops, {forward.host_transfers} host transfers in forward")
        results.append(figures)
    return results


def format_table(results: Sequence[ConverterFigures]) -> str:
    lines = [
        f"{'input':>6} {'frames':>6} {'samples':>8} {'stage':<18} {'ops':>5} {'host xfers':>10} "
        f"{'peak L1 (KiB)':>13} {'DRAM slices':>11} {'latency ms':>10} {'RTF':>7} {'kernel ms':>9} {'e2e ms':>8}"
    ]
    for r in results:
        for s in [*r.stages, r.forward]:
            last = s is r.forward
            lines.append(
                f"{r.seconds:>5g}s {r.frames:>6} {r.samples:>8} {s.name:<18} {s.operations:>5} {s.host_transfers:>10} "
                f"{s.peak_l1_bytes / 1024:>13.0f} {s.dram_slices:>11} "
                f"{fmt(r.latency_ms if last else None, '.1f'):>10} {fmt(r.rtf if last else None, '.4f'):>7} "
                f"{fmt(r.kernel_ms if last else None, '.1f'):>9} {fmt(r.end_to_end_ms if last else None, '.1f'):>8}"
            )
    lines.append(
        "peak L1: allocator view summed over all cores, a lower bound (see mock_wormhole/README.md); "
        "DRAM slices: conv1d width slices ttnn chose (0 = whole sequence in L1); latency: warm forward only; "
        "e2e: warm upload + forward + audio download"
    )
    lines += [modelled_line(f"{r.seconds:>5g}s forward", r.modelled, r.samples / 22050) for r in results if r.modelled]
    lines.append("first forward at a new input length (prepares conv weights for the shape, fills the program cache):")
    for r in results:
        if r.cold_ms is not None:
            cost = f"{r.cold_ms:.1f} ms (warm forward {fmt(r.latency_ms, '.1f')} ms)"
        else:
            cost = f"{r.cold_uploads} host->device uploads, {r.cold_downloads} device->host reads (warm forward: 0 transfers)"
        lines.append(f"{r.seconds:>5g}s {r.frames:>6} frames: {cost}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=list(DEFAULT_SECONDS))
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--config", type=Path, help="converter config.json (default: the release shapes' defaults)")
    parser.add_argument("--checkpoint", type=Path, default=None, help="converter checkpoint (default: seeded random weights)")
    args = parser.parse_args(argv)
    model = release_model(args.config, args.checkpoint)
    device, mock = open_device(), is_mock_device()
    try:
        results = benchmark(device, mock, model, args.seconds, args.iterations)
    finally:
        close_device(device)
    print(f"tone-colour converter on {'the mock device' if mock else 'device'} (B=1)")
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
