# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Serving: N concurrent clone / convert / speak requests on one chip or an N300's 1x2 mesh.

    python -m models.demos.openvoice.demo.benchmark_serving [--work convert clone speak] [--requests 8]
        [--chips 1 2] [--seconds 2] [--random-weights 0 | --checkpoint-dir checkpoints_v2]

Per (work, chips): the requests once one after another (each alone: one device forward each), then all at once
from N threads (the cloner's batcher gathers them: `runner/batcher.py`). Every device call of the backend is
graph-captured, which gives per request:
* device forwards, ops and host transfers (counted on the mock and on a card alike);
* on a card, measured requests per second and latency percentiles (wall clock, submit to result), for the traced
  path (the runners' default on a card) and the eager one (`--paths`; the mock runs eager only: trace capture
  cannot run there);
* from the device-time model (utils/wormhole_model.py), the predicted card figures, MODELLED, NOT MEASURED:
  each captured forward's end to end untraced and traced, the requests' completion times when all arrive at
  once and the forwards run back to back (latency percentiles over the requests, requests per second).
On the mock the measured columns are "-": its wall clock is host emulation, not the device.

Clones are not batched (one forward per reference: the reference encoder has no per-item mask yet); speak
requests are a MeloTTS forward (merged across requests) plus a converter forward per batch of sentences.
Weights: seeded random release shapes (`--random-weights`, the default) or the official checkpoints; timing and
op counts do not depend on weight values.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from loguru import logger

from models.demos.openvoice.demo.benchmark_clone import synthetic_reference
from models.demos.openvoice.demo.figures import fmt
from models.demos.openvoice.demo.pipeline import SpeakerEmbeddingCache, VoiceCloner
from models.demos.openvoice.utils.device import is_mock_device
from models.demos.openvoice.utils.graph_report import capture
from models.demos.openvoice.utils.wormhole_model import MODELLED, model_graph

WORKS = ("convert", "clone", "speak")
SPEAK_TEXT = "The quick brown fox jumps over the lazy dog."
PERCENTILES = (50, 90, 99)


@dataclass
class DeviceCall:
    """One backend call: how many requests' items it carried and what the device did."""

    kind: str
    items: int
    operations: int
    host_transfers: int
    modelled_ms: tuple[float, float]  # (untraced, traced) end to end, MODELLED, NOT MEASURED


class CapturingBackend:
    """The backend with every device call graph-captured (one at a time: captures must not overlap)."""

    def __init__(self, backend: Any) -> None:
        self.backend, self.calls = backend, []
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def _capture(self, kind: str, items: int, call: Callable[[], Any]) -> Any:
        with self._lock:
            report = capture(call)
        modelled = model_graph(report.graph)
        # The capture lists a mesh forward's programs once per chip; the chips run them at the same time, each on
        # its share (SPMD, equal shapes): the forward takes one chip's time.
        chips = self.backend.chips
        times = (modelled.end_to_end_ms(False) / chips, modelled.end_to_end_ms(True) / chips)
        self.calls.append(DeviceCall(kind, items, len(report.operations), report.num_host_transfers, times))
        return report.result

    def voice_conversions(self, requests: Sequence[Any]) -> list[np.ndarray]:
        return self._capture("convert", len(requests), lambda: self.backend.voice_conversions(requests))

    def speaker_embedding(self, waveforms: Sequence[np.ndarray]) -> torch.Tensor:
        return self._capture("clone", 1, lambda: self.backend.speaker_embedding(waveforms))

    def synthesize(self, request: Any) -> Any:
        return self._capture("melotts", len(request.x_lengths), lambda: self.backend.synthesize(request))


@dataclass
class Round:
    """N requests, one after another ("sequential") or all at once ("concurrent")."""

    work: str
    chips: int
    mode: str
    path: str  # "traced" or "eager": what ran (the mock: eager)
    latencies_s: list[float]
    wall_s: float
    calls: list[DeviceCall] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies_s)

    def per_request(self, attribute: str) -> float:
        return sum(getattr(c, attribute) for c in self.calls) / self.requests

    def modelled(self, traced: bool) -> tuple[float, list[float]]:
        """(requests per second, completion times in ms) if the recorded forwards ran back to back on a card from
        the moment every request arrived (concurrent), or each request arriving as the previous one finished
        (sequential: its latency is its own forwards). MODELLED, NOT MEASURED."""
        index = 1 if traced else 0
        total = sum(c.modelled_ms[index] for c in self.calls)
        if self.mode == "sequential" or self.work != "convert":
            per = total / self.requests
            done = [per * (i + 1) for i in range(self.requests)] if self.mode == "concurrent" else [per] * self.requests
        else:
            done, clock = [], 0.0
            for call in self.calls:
                clock += call.modelled_ms[index]
                done += [clock] * call.items
        return self.requests / (total / 1e3), done


def percentiles(values_ms: Sequence[float]) -> list[float]:
    ordered = sorted(values_ms)
    return [ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] for p in PERCENTILES]


def _jobs(work: str, cloner: VoiceCloner, tts: Any, requests: int, seconds: float) -> list[Callable[[], Any]]:
    rate, gin = cloner.sampling_rate, cloner.config.model.gin_channels
    sources = [synthetic_reference(seconds, seed=i).numpy() for i in range(requests)]
    targets = [torch.randn(1, gin, 1, generator=torch.Generator().manual_seed(i)) * 0.1 for i in range(requests)]
    if work == "convert":
        return [lambda s=s, g=g: cloner.convert((s, rate), targets[0], g, tau=0.3) for s, g in zip(sources, targets)]
    if work == "clone":
        return [lambda s=s: cloner.extract_se([(s, rate)]) for s in sources]
    return [lambda g=g: tts.speak(SPEAK_TEXT, "EN", g) for g in targets]


def run_threads(items: Sequence[Any], call: Callable[[Any], Any]) -> None:
    """`call(item)` for every item, each on its own thread, all at once."""
    threads = [threading.Thread(target=call, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_round(
    work: str, chips: int, mode: str, cloner: VoiceCloner, tts: Any, requests: int, seconds: float, path: str
) -> Round:
    jobs = _jobs(work, cloner, tts, requests, seconds)
    backend: CapturingBackend = cloner.backend
    latencies = [0.0] * len(jobs)

    def timed(index: int) -> None:
        start = time.perf_counter()
        jobs[index]()
        latencies[index] = time.perf_counter() - start

    for job in jobs[:1] if mode == "sequential" else ():  # warm: the shapes' programs and prepared weights (not counted)
        job()
    if mode == "concurrent":  # warm: the batch shapes (a card also captures their traces here); not counted
        run_threads(jobs, lambda job: job())
    cloner.cache = SpeakerEmbeddingCache("serving")  # clones really run (the warm-up cached these references)
    first_call = len(backend.calls)
    start = time.perf_counter()
    if mode == "sequential":
        for index in range(len(jobs)):
            timed(index)
    else:
        run_threads(range(len(jobs)), timed)
    wall = time.perf_counter() - start
    return Round(work, chips, mode, path, latencies, wall, backend.calls[first_call:])


def format_table(rounds: Sequence[Round], mock: bool) -> str:
    where = "the mock Wormhole (measured columns: host emulation, not shown)" if mock else "device"
    lines = [
        f"serving on {where}",
        f"{'work':>8} {'chips':>5} {'requests':>17} {'path':>6} {'forwards':>8} {'ops/req':>8} {'xfers/req':>9} "
        f"{'req/s':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}",
    ]
    for r in rounds:
        measured = [None] * 4 if mock else [r.requests / r.wall_s, *percentiles([s * 1e3 for s in r.latencies_s])]
        lines.append(
            f"{r.work:>8} {r.chips:>5} {f'{r.requests} {r.mode}':>17} {r.path:>6} {len(r.calls):>8} {r.per_request('operations'):>8.0f} "
            f"{r.per_request('host_transfers'):>9.1f} {fmt(measured[0], '.2f'):>7} "
            + " ".join(f"{fmt(v, '.1f'):>8}" for v in measured[1:])
        )
    lines.append(f"predicted on a card ({MODELLED}): forwards of the rounds above, back to back")
    for r in [r for r in rounds if r.path == rounds[0].path]:  # the model prices both paths from one capture
        for traced in (False, True):
            rate, done = r.modelled(traced)
            p = percentiles(done)
            lines.append(
                f"{r.work:>8} {r.chips:>5} {f'{r.requests} {r.mode}':>17} {'traced' if traced else 'eager':>8} "
                f"{rate:>7.2f} req/s, latency p50 {p[0]:.1f} / p90 {p[1]:.1f} / p99 {p[2]:.1f} ms"
            )
    return "\n".join(lines)


def build(args: argparse.Namespace, chips: int, work: str, eager: bool) -> tuple[VoiceCloner, Any]:
    """The CLI's own builders (random weights or checkpoints) on a TTNN backend of `chips` chips, captured."""
    from models.demos.openvoice.demo import cli

    common = ["--backend", "ttnn", "--chips", str(chips), "--checkpoint-dir", str(args.checkpoint_dir)]
    common += ["--eager"] if eager else []
    if not args.official:
        common += ["--random-weights", str(args.random_weights)]
    tts = None
    if work == "speak":
        extra = [f"--{name}-dir={value}" for name, value in (("tokenizer", args.tokenizer_dir), ("nltk", args.nltk_dir)) if value]
        extra += ["--base-speakers", str(args.base_speakers)] if args.base_speakers else []
        parsed = cli.parser().parse_args(["speak", SPEAK_TEXT, "--language", "EN", "--target-se", "unused", *common, *extra])
        tts = cli.build_speaker(parsed)
        cloner = tts.cloner
    else:
        cloner = cli.build_cloner(cli.parser().parse_args(["clone", "unused", *common]), need_converter=work == "convert")
    cloner = VoiceCloner(cloner.config, CapturingBackend(cloner.backend), cloner.cache, batch_wait_ms=args.wait_ms)
    return cloner, (tts.with_cloner(cloner) if tts is not None else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", nargs="+", choices=WORKS, default=["convert", "clone"])
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--chips", type=int, nargs="+", choices=(1, 2), default=[1, 2], help="1: one chip; 2: an N300 mesh")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each convert / clone request's audio")
    parser.add_argument("--wait-ms", type=float, default=50.0, help="the batcher's gathering wait (threads start within it)")
    parser.add_argument("--paths", nargs="+", choices=("traced", "eager"), default=["traced", "eager"], help="a card: which runs to measure")
    parser.add_argument("--random-weights", type=int, default=0, metavar="SEED", help="seeded random release shapes (default)")
    parser.add_argument("--official", action="store_true", help="the official checkpoints (--checkpoint-dir) instead")
    parser.add_argument("--checkpoint-dir", type=Path, default=Path("checkpoints_v2"))
    parser.add_argument("--tokenizer-dir", type=Path, help="speak: <hub id>/ tokenizers")
    parser.add_argument("--nltk-dir", type=Path, help="speak: NLTK data")
    parser.add_argument("--base-speakers", type=Path, help="speak: base-speaker SEs")
    args = parser.parse_args(argv)
    mock = is_mock_device()
    paths = ["eager"] if mock else args.paths
    rounds = []
    for chips in args.chips:
        for work in args.work:
            for path in paths:
                cloner, tts = build(args, chips, work, eager=path == "eager")
                try:
                    for mode in ("sequential", "concurrent"):
                        rounds.append(run_round(work, chips, mode, cloner, tts, args.requests, args.seconds, path))
                        logger.info(f"{work} x{args.requests} {mode} on {chips} chip(s), {path}: {len(rounds[-1].calls)} forwards")
                finally:
                    cloner.close()
                    cloner.backend.close()
    print(format_table(rounds, mock))
    return 0


if __name__ == "__main__":
    sys.exit(main())
