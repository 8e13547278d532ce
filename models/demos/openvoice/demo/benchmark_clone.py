# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Clone (speaker-embedding) latency on TTNN for 3 s, 10 s and 30 s references.

    python -m models.demos.openvoice.demo.benchmark_clone [--seconds 3 10 30]

Per reference length: one warm-up call (prepares the conv weights for that input shape),
then a graph capture of the device forward (op count, host transfers, peak L1 as the
allocator saw it: the sum over the worker grid, also shown divided by the number of worker
cores, the per-core figure if spread evenly, to compare with ~1.4 MiB of L1 per core) and, on a real device, the warm wall-clock latency of the whole clone
step: upload, spectrogram + encoder on device, download of the embedding. On the mock
the latency column is empty: its timing is host emulation, not the device.
Weights: the real reference encoder when `--ref-enc` provides
it, else a random one (timing and op counts do not depend on weight values).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
import ttnn
from loguru import logger

from models.demos.openvoice.demo.figures import median_ms, modelled_line
from models.demos.openvoice.reference.reference_encoder import ReferenceEncoder, load_reference_encoder
from models.demos.openvoice.tt.reference_encoder import TtSpeakerEncoder
from models.demos.openvoice.utils.device import close_device, is_mock_device, open_device
from models.demos.openvoice.utils.graph_report import capture
from models.demos.openvoice.utils.wormhole_model import ForwardTime, model_graph

SAMPLING_RATE = 22050
DEFAULT_SECONDS = (3.0, 10.0, 30.0)


@dataclass(frozen=True)
class CloneFigures:
    seconds: float
    frames: int
    operations: int
    host_transfers: int
    peak_l1_bytes: int
    cores: int
    latency_ms: float | None  # warm median, real device only
    modelled: ForwardTime | None = None  # the device-time model on the forward's capture (MODELLED, NOT MEASURED)


def synthetic_reference(seconds: float, seed: int = 0) -> torch.Tensor:
    """Speech-band test signal (a gliding harmonic tone in noise); the content does not affect timing."""
    n = int(seconds * SAMPLING_RATE)
    t = torch.arange(n, dtype=torch.float64) / SAMPLING_RATE
    pitch = 120.0 + 40.0 * torch.sin(2 * torch.pi * 0.5 * t)
    phase = 2 * torch.pi * torch.cumsum(pitch, 0) / SAMPLING_RATE
    voice = sum(torch.sin(k * phase) / k for k in range(1, 8))
    noise = torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return (0.2 * voice + 0.01 * noise).float()


def benchmark(device: ttnn.Device, reference: ReferenceEncoder, seconds: Sequence[float], iterations: int = 10) -> list[CloneFigures]:
    encoder = TtSpeakerEncoder(device, reference)
    rows = []
    for length in seconds:
        waveform = synthetic_reference(length)
        uploaded = encoder.upload(waveform)
        ttnn.to_torch(encoder(uploaded))  # warm-up: prepares the conv weights for this shape
        report = capture(encoder, uploaded)
        latency = None
        if not is_mock_device():
            latency = median_ms(lambda: ttnn.to_torch(encoder(encoder.upload(waveform))), device, iterations)
        frames = encoder.spectrogram.num_frames(waveform.numel())
        grid = device.compute_with_storage_grid_size()
        cores = grid.x * grid.y
        modelled = model_graph(report.graph)
        rows.append(
            CloneFigures(
                length, frames, len(report.operations), report.num_host_transfers, report.peak_l1_bytes, cores, latency, modelled
            )
        )
        logger.info(f"{length:g} s: {rows[-1]}")
    return rows


def format_table(rows: Sequence[CloneFigures], mock: bool) -> str:
    lines = [
        f"clone (spectrogram + reference encoder) on {'the mock Wormhole (no timing)' if mock else 'device'}",
        f"{'reference':>10} {'frames':>7} {'ops':>6} {'host xfers':>10} {'peak L1 (KiB)':>14} {'per core':>9} {'latency (ms)':>13}",
    ]
    for row in rows:
        latency = f"{row.latency_ms:.2f}" if row.latency_ms is not None else "n/a"
        lines.append(
            f"{row.seconds:>9g}s {row.frames:>7} {row.operations:>6} {row.host_transfers:>10} "
            f"{row.peak_l1_bytes / 1024:>14.0f} {row.peak_l1_bytes / 1024 / row.cores:>9.0f} {latency:>13}"
        )
    lines += [modelled_line(f"{row.seconds:>9g}s reference", row.modelled, row.seconds) for row in rows if row.modelled]
    return "\n".join(lines)


def _reference_encoder(path: Path | None) -> ReferenceEncoder:
    if path is not None:
        return load_reference_encoder(path)
    logger.info("no reference-encoder weights given: random weights (timing does not depend on them)")
    torch.manual_seed(0)
    return ReferenceEncoder(513, 256).eval()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, nargs="+", default=list(DEFAULT_SECONDS))
    parser.add_argument("--ref-enc", type=Path, help="reference-encoder weights (ref_enc.pt or converter checkpoint)")
    parser.add_argument("--iterations", type=int, default=10, help="timed warm runs per length (real device)")
    args = parser.parse_args(argv)
    reference = _reference_encoder(args.ref_enc)
    device, mock = open_device(), is_mock_device()
    try:
        rows = benchmark(device, reference, args.seconds, args.iterations)
    finally:
        close_device(device)
    print(format_table(rows, mock))
    return 0


if __name__ == "__main__":
    sys.exit(main())
