# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""MeloTTS `infer` on TTNN for 2, 5, 10 and 20 s of speech and a batch of 4 sentences.

    python -m models.demos.openvoice.demo.benchmark_tts [--seconds 2 5 10 20] [--batch 4]

Model: the release shape (hidden 192, filter 768, 2 heads, 6 text-encoder layers, 219
symbols, 16 tones, 8 languages, gin 256, 3-layer transformer flow, the 44.1 kHz decoder:
rates 8,8,2,2,2, 512 channels) with seeded random weights; op counts and timing do not
depend on the weights. To get a chosen speech length the deterministic duration predictor
is pinned to a constant: its output projection is zeroed and its bias set to
log(`FRAMES_PER_TOKEN` - 0.5), and `sdp_ratio` = 0, so every token lasts exactly
`FRAMES_PER_TOKEN` frames (about a phone at 44.1 kHz / hop 512) and T_x = ceil(frames /
FRAMES_PER_TOKEN). The stochastic predictor still runs (its output is weighted 0), so the
op count is the real one.

Per configuration:
* the FIRST `infer` at that shape (conv weight preparation, program cache): on the mock its
  host transfers (uploads; device->host reads: the y_lengths sync and the audio download);
  on a card its wall-clock time;
* a warm `infer`, captured stage by stage (upload, encode = speaker lookup + text encoder +
  both duration predictors, durations + THE sync, alignment + expansion + prior upload and
  sample, flow, decoder, audio download): op count, host transfers, peak L1 (allocator
  view, a lower bound: mock_wormhole/README.md);
* on a card: warm latency of the whole `infer` (median, synchronised), RTF (latency / audio
  seconds) and phones (tokens) per second.
On the mock the timing columns are empty: its timing is host emulation.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable, Sequence

import torch
import ttnn
from loguru import logger

from models.demos.openvoice.utils.device import close_device, is_mock_device, open_device
from models.demos.openvoice.utils.graph_report import capture, device_to_host_transfers
from models.demos.openvoice.demo.figures import fmt, median_ms, modelled_line
from models.demos.openvoice.reference.melo_tts import MeloTTS
from models.demos.openvoice.reference.text_encoder import BERT_CHANNELS, JA_BERT_CHANNELS
from models.demos.openvoice.tt.commons import upload
from models.demos.openvoice.tt.melo_tts import TtMeloTTS
from models.demos.openvoice.utils.wormhole_model import ForwardTime, model_graph

SAMPLING_RATE = 44100
HOP_LENGTH = 512
DEFAULT_SECONDS = (2.0, 5.0, 10.0, 20.0)
DEFAULT_BATCH = 4
FRAMES_PER_TOKEN = 6  # ~14 phones per second of speech
STAGES = ("upload", "encode", "durations+sync", "align+prior", "flow", "decoder", "download")


def release_model(seed: int = 0, n_speakers: int = 8) -> MeloTTS:
    """MeloTTS in the release shape with seeded random weights (no MeloTTS checkpoint is available here)."""
    torch.manual_seed(seed)
    return MeloTTS(
        219, 192, 192, 768, 2, 6, 3, "1", (3, 7, 11), ((1, 3, 5),) * 3, (8, 8, 2, 2, 2), 512, (16, 16, 8, 2, 2),
        n_speakers=n_speakers, gin_channels=256, num_tones=16, num_languages=8,
    ).eval()  # fmt: skip


def pin_durations(model: MeloTTS, frames_per_token: int = FRAMES_PER_TOKEN) -> MeloTTS:
    """Make the deterministic predictor output log(frames - 0.5) on every token (ceil -> frames)."""
    with torch.no_grad():
        model.dp.proj.weight.zero_()
        model.dp.proj.bias.fill_(math.log(frames_per_token - 0.5))
    return model


def sentence_batch(token_counts: Sequence[int], seed: int = 0) -> dict:
    """Random ids/tones/languages/BERT features for sentences of `token_counts` tokens (padded)."""
    gen = torch.Generator().manual_seed(seed)
    b, t = len(token_counts), max(token_counts)
    lengths = torch.tensor(token_counts)
    valid = torch.arange(t)[None] < lengths[:, None]
    return {
        "x": torch.randint(1, 219, (b, t), generator=gen) * valid,
        "x_lengths": lengths,
        "sid": torch.arange(b) % 8,
        "tone": torch.randint(0, 16, (b, t), generator=gen) * valid,
        "language": (torch.arange(b)[:, None] % 8).expand(b, t) * valid,
        "bert": torch.randn(b, BERT_CHANNELS, t, generator=gen) * valid[:, None],
        "ja_bert": torch.randn(b, JA_BERT_CHANNELS, t, generator=gen) * valid[:, None],
    }


@dataclass(frozen=True)
class StageFigures:
    name: str
    operations: int
    uploads: int
    downloads: int
    peak_l1_bytes: int
    modelled_programs: list = field(default_factory=list)  # the device-time model's predictions (MODELLED, NOT MEASURED)


@dataclass
class TtsFigures:
    label: str
    batch_size: int
    tokens: int  # T_x (padded)
    frames: int  # T_y
    seconds: float  # audio per item (T_y * hop / rate)
    stages: list[StageFigures] = field(default_factory=list)
    cold_uploads: int | None = None  # mock: host->device transfers of the first infer at this shape
    cold_downloads: int | None = None  # mock: device->host reads of the first infer (2: y_lengths, audio)
    cold_ms: float | None = None  # card
    latency_ms: float | None = None  # card, warm median of infer

    @property
    def total(self) -> StageFigures:
        s = self.stages
        return StageFigures(
            "infer", sum(x.operations for x in s), sum(x.uploads for x in s), sum(x.downloads for x in s),
            max((x.peak_l1_bytes for x in s), default=0), [p for x in s for p in x.modelled_programs],
        )  # fmt: skip

    @property
    def rtf(self) -> float | None:
        return None if self.latency_ms is None else self.latency_ms / 1000.0 / self.seconds

    @property
    def phones_per_second(self) -> float | None:
        return None if self.latency_ms is None else self.batch_size * self.tokens / (self.latency_ms / 1000.0)


def host_reads(report) -> list[str]:
    """The outermost device->host transfers of a capture, one per read (a `ttnn.to_torch` traces
    several nested read functions, which `helpers.device_to_host_transfers` lists individually)."""
    return [t for t in report.host_transfers if device_to_host_transfers(SimpleNamespace(calltrace=[t.split(" > ")[-1]]))]


def _stage(name: str, report) -> StageFigures:
    downloads = len(host_reads(report))
    modelled = model_graph(report.graph).predictions
    return StageFigures(
        name, len(report.operations), report.num_host_transfers - downloads, downloads, report.peak_l1_bytes, modelled
    )


def staged_infer(tt: TtMeloTTS, batch: dict, eps_p: torch.Tensor | None = None) -> tuple[list[StageFigures], torch.Tensor]:
    """A warm infer (sdp_ratio 0, noise scales as upstream's defaults), each stage captured separately."""
    figures = []

    def run(name: str, fn: Callable, *args):
        report = capture(fn, *args)
        figures.append(_stage(name, report))
        return report.result

    inputs = run("upload", tt.prepare_inputs, *(batch[k] for k in ("x", "x_lengths", "sid", "tone", "language", "bert", "ja_bert")))
    b, t_x = inputs.batch_size, inputs.length
    lr = tt.length_regulator

    def encode():
        g = tt.speaker_embedding(inputs)
        return g, tt.encode(inputs, g)

    g, (enc_x, m_p, logs_p, logw_sdp, logw_dp) = run("encode", encode)

    def durations():
        d = lr.durations(tt.mix_durations(logw_sdp, logw_dp, 0.0), inputs.x_mask, b, t_x, 1.0)
        return d, lr.read_lengths(d)

    dur, y_lengths = run("durations+sync", durations)
    frames = max(y_lengths)
    noise = eps_p if eps_p is not None else torch.randn(b, tt.inter_channels, frames)

    def align_prior():
        alignment = lr.align(dur, frames)
        m, logs = lr.expand(alignment, m_p), lr.expand(alignment, logs_p)
        scaled = upload(tt.device, noise.permute(0, 2, 1).reshape(1, 1, b * frames, -1) * 0.667, ttnn.float32)
        return alignment, tt.prior_sample(m, logs, scaled)

    alignment, z_p = run("align+prior", align_prior)
    z = run("flow", tt.flow_reverse, z_p, alignment, g, b)
    audio, _ = run("decoder", tt.decode, z, alignment, g, b)
    audio = run("download", lambda: ttnn.to_torch(audio))
    return figures, audio


def benchmark(
    device: ttnn.Device,
    mock: bool,
    model: MeloTTS,
    seconds: Sequence[float] = DEFAULT_SECONDS,
    batch: int | None = DEFAULT_BATCH,
    iterations: int = 3,
) -> list[TtsFigures]:
    model = pin_durations(model)
    tt = TtMeloTTS(device, model)
    configs: list[tuple[str, list[int]]] = []
    for duration in seconds:
        frames = math.ceil(duration * SAMPLING_RATE / HOP_LENGTH)
        configs.append((f"{duration:g} s", [math.ceil(frames / FRAMES_PER_TOKEN)]))
    if batch:
        # Sentences of 2 s down to ~1 s: different lengths, speakers and languages in one run.
        longest = math.ceil(2.0 * SAMPLING_RATE / HOP_LENGTH / FRAMES_PER_TOKEN)
        configs.append((f"batch {batch}", [max(1, longest - 4 * i) for i in range(batch)]))
    results = []
    for label, tokens in configs:
        data = sentence_batch(tokens)
        b = len(tokens)
        frames = FRAMES_PER_TOKEN * max(tokens)
        figures = TtsFigures(label, b, max(tokens), frames, frames * HOP_LENGTH / SAMPLING_RATE)
        call = lambda: tt.infer(**data, sdp_ratio=0.0, length_scale=1.0)  # noqa: E731
        if mock:
            cold = capture(call)
            figures.cold_downloads = len(host_reads(cold))
            figures.cold_uploads = cold.num_host_transfers - figures.cold_downloads
        else:
            ttnn.synchronize_device(device)
            start = time.perf_counter()
            call()
            ttnn.synchronize_device(device)
            figures.cold_ms = (time.perf_counter() - start) * 1000.0
        figures.stages, _ = staged_infer(tt, data)
        if not mock:
            figures.latency_ms = median_ms(call, device, iterations)
        logger.info(f"{label}: {figures.total.operations} ops, T_x {figures.tokens}, T_y {frames}")
        results.append(figures)
    return results


def format_table(results: Sequence[TtsFigures]) -> str:
    lines = [
        f"{'config':<9} {'B':>2} {'T_x':>4} {'T_y':>5} {'stage':<15} {'ops':>5} {'uploads':>7} {'reads':>5} "
        f"{'peak L1 (KiB)':>13} {'latency ms':>10} {'RTF':>7} {'phones/s':>9}"
    ]
    for r in results:
        for s in [*r.stages, r.total]:
            last = s.name == "infer"
            lines.append(
                f"{r.label:<9} {r.batch_size:>2} {r.tokens:>4} {r.frames:>5} {s.name:<15} {s.operations:>5} {s.uploads:>7} "
                f"{s.downloads:>5} {s.peak_l1_bytes / 1024:>13.0f} {fmt(r.latency_ms if last else None, '.1f'):>10} "
                f"{fmt(r.rtf if last else None, '.4f'):>7} {fmt(r.phones_per_second if last else None, '.0f'):>9}"
            )
    lines.append(
        "warm infer; reads: device->host (the y_lengths sync and the audio download); peak L1: allocator view "
        "summed over all cores, a lower bound; infer row: ops/transfers summed over the stages, peak L1 their max"
    )
    for r in results:
        lines.append(modelled_line(f"{r.label:<9} infer", ForwardTime(r.total.modelled_programs), r.seconds * r.batch_size))
    lines.append("first infer at a new shape (prepares conv weights, fills the program cache):")
    for r in results:
        if r.cold_ms is not None:
            lines.append(f"{r.label:<9}: {r.cold_ms:.1f} ms (warm {fmt(r.latency_ms, '.1f')} ms)")
        else:
            lines.append(f"{r.label:<9}: {r.cold_uploads} host->device uploads, {r.cold_downloads} device->host reads")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, nargs="*", default=list(DEFAULT_SECONDS))
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="sentences in the batch case (0: none)")
    parser.add_argument("--iterations", type=int, default=3)
    args = parser.parse_args(argv)
    device, mock = open_device(), is_mock_device()
    try:
        results = benchmark(device, mock, release_model(), args.seconds, args.batch, args.iterations)
    finally:
        close_device(device)
    print(f"MeloTTS infer (release shape, random weights) on {'the mock device' if mock else 'device'}")
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
