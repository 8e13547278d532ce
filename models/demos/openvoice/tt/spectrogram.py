# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Linear magnitude spectrogram on device (`reference/spectrogram.py`, upstream `spectrogram_torch(center=False)`).

    waveform [N] --reflect pad (n_fft-hop)/2 per side--> [N + n_fft - hop]
      --rows of `hop` samples--> [T+k-1, hop] --k shifted row blocks side by side--> frames [T, n_fft]
      --one matmul with the windowed Fourier basis [n_fft, 2 * bins_padded]--> re | im
      --sqrt(re^2 + im^2 + 1e-6)--> [1, 1, T, bins]   (time-major: what the reference encoder reads)

Needs hop to divide n_fft, k = n_fft / hop (the release: 1024 / 256, k = 4): frame t is then
exactly rows t..t+k-1, so framing is k slices and a concat, and the DFT one matmul.

Precision: float32 tensors, `precision.PLAN["spectrogram"]` (HiFi3 with fp32 accumulation on
Wormhole, where ttnn warns that HiFi4 + fp32 accumulation is less accurate). Wormhole's FPU
unpacks float32 matmul operands to tf32 (10 mantissa bits, truncated); its 5x7-bit multiplier
then consumes srcA as 4 + 4 mantissa bits (8 of the 10) and srcB as 6 + 6, and HiFi3 runs 3 of
the 4 partial products, skipping srcA-low x srcB-low (tt-metal's matrix-engine report).
bf16 operands (7 bits) are not enough for a 1024-term DFT: real-weight embedding PCC 0.990
(jfk). CPU model of the card (`test_dft_operand_precision`, not measured on a card): tf32
operands with exact products 0.99999; HiFi3 as described 0.99949 / 0.99955 (frames / basis in
srcA), HiFi4 hardly better (0.99952 / 0.99956): srcA's 8 bits dominate, above the 0.999 bar.

What is exact: the framing (slices, concat, reshapes) is data movement. The reflect padding
is NOT pure data movement: it is a matmul of the `pad` edge samples with the anti-identity
(ttnn 0.81.1 has no flip op). Exact in float32 on the mock; on a card each reflected sample
(one product with 1.0, accumulated in fp32) keeps only the operand bits the FPU reads, i.e.
the waveform sample truncated to tf32 (or to 8 mantissa bits if it lands in srcA), a relative
error <= 2^-8, on 2 x 384 of the N samples only.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import ttnn
from loguru import logger

from models.demos.openvoice.reference.spectrogram import MAGNITUDE_EPS
from models.demos.openvoice.tt.commons import upload
from models.demos.openvoice.tt.precision import compute_config

PEAK_WARNING = 1.1  # the models were trained on audio in [-1, 1]
TILE = 32


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def fourier_basis(n_fft: int, win_length: int) -> torch.Tensor:
    """[n_fft, 2 * bins_padded] float32: hann-windowed cos | -sin, i.e. the real | imaginary
    parts of the one-sided DFT (torch.stft) as one matrix.

    Each half is zero-padded from n_fft/2+1 bins to a tile multiple, so the real and
    imaginary halves of the product split on a tile boundary.
    """
    bins = n_fft // 2 + 1
    padded = _round_up(bins, TILE)
    # torch.stft centres a shorter window inside the n_fft frame.
    window = torch.zeros(n_fft, dtype=torch.float64)
    left = (n_fft - win_length) // 2
    window[left : left + win_length] = torch.hann_window(win_length, dtype=torch.float64)
    n = torch.arange(n_fft, dtype=torch.float64)[:, None]
    k = torch.arange(bins, dtype=torch.float64)[None, :]
    angle = 2.0 * math.pi * ((n * k) % n_fft) / n_fft  # reduce n*k first: exact angles
    basis = torch.zeros(n_fft, 2 * padded, dtype=torch.float64)
    basis[:, :bins] = window[:, None] * torch.cos(angle)
    basis[:, padded : padded + bins] = -window[:, None] * torch.sin(angle)
    return basis.float()


class TtSpectrogram:
    """`spectrogram(y, n_fft, hop, win)` of one uploaded mono waveform, on device.

    Input: float32 ROW_MAJOR [1, N] on device (see `upload`). Output: float32 TILE
    [1, 1, T, n_fft/2+1] (T = N // hop for the release config), i.e. upstream's [1, bins, T]
    transposed.
    Any N the reference accepts works; the pipeline bounds N to 30 s per segment
    (`SE_SEGMENT_SECONDS`), which keeps the frame matrix [T, n_fft] under 11 MB.
    """

    def __init__(
        self,
        device: ttnn.Device,
        n_fft: int = 1024,
        hop_length: int = 256,
        win_length: int = 1024,
        *,
        compute: ttnn.DeviceComputeKernelConfig | None = None,
    ) -> None:
        if hop_length <= 0 or n_fft % hop_length:
            raise ValueError(
                "TtSpectrogram frames by stacking whole rows of hop samples, so hop_length must divide "
                f"n_fft; got n_fft={n_fft}, hop_length={hop_length}"
            )
        if not 0 < win_length <= n_fft:
            raise ValueError(f"win_length must be in (0, n_fft], got {win_length}")
        self.device = device
        self.n_fft, self.hop = n_fft, hop_length
        self.rows_per_frame = n_fft // hop_length
        self.bins = n_fft // 2 + 1
        self.pad = (n_fft - hop_length) // 2
        self.bins_padded = _round_up(self.bins, TILE)
        self.compute_config = compute if compute is not None else compute_config(device, "spectrogram")
        self.basis = upload(device, fourier_basis(n_fft, win_length), ttnn.float32)
        # Reflection = reversal of `pad` samples: a product with the anti-identity (see the module
        # docstring: exact on the mock, operand truncation of the reflected samples on a card).
        self.reverse = None
        if self.pad:
            self.reverse = upload(device, torch.eye(self.pad).flip(0), ttnn.float32)

    def num_frames(self, num_samples: int) -> int:
        return (num_samples + 2 * self.pad - self.n_fft) // self.hop + 1

    def upload(self, waveform: torch.Tensor) -> ttnn.Tensor:
        """Host mono waveform [N] -> device float32 [1, N]: the one host step (with its checks)."""
        waveform = torch.as_tensor(waveform, dtype=torch.float32).reshape(1, -1)
        if waveform.shape[1] <= self.pad or waveform.shape[1] + 2 * self.pad < self.n_fft:
            raise ValueError(f"need more than {max(self.pad, self.n_fft - 2 * self.pad - 1)} samples, got {waveform.shape[1]}")
        peak = float(waveform.abs().max())
        if peak > PEAK_WARNING:
            logger.warning(f"waveform peak {peak:.3f} is outside [-{PEAK_WARNING}, {PEAK_WARNING}]")  # as the reference does
        return upload(self.device, waveform, ttnn.float32, ttnn.ROW_MAJOR_LAYOUT)

    def _reflect(self, segment: ttnn.Tensor) -> ttnn.Tensor:
        segment = ttnn.to_layout(segment, ttnn.TILE_LAYOUT)
        flipped = ttnn.matmul(segment, self.reverse, compute_kernel_config=self.compute_config)
        return ttnn.to_layout(flipped, ttnn.ROW_MAJOR_LAYOUT)

    def __call__(self, waveform: ttnn.Tensor) -> ttnn.Tensor:
        n = waveform.shape[-1]
        frames = self.num_frames(n)
        rows = self.batch_rows(frames)
        pad = self.pad
        # Padded signal y[pad:0:-1] | y | y[n-2:n-2-pad:-1], truncated to whole rows (the
        # tail past rows * hop belongs to no frame).
        padded = waveform
        if pad:
            left = self._reflect(ttnn.slice(waveform, [0, 1], [1, pad + 1]))
            right = self._reflect(ttnn.slice(waveform, [0, n - pad - 1], [1, n - 1]))
            padded = ttnn.concat([left, waveform, right], dim=-1)
        padded = ttnn.slice(padded, [0, 0], [1, rows * self.hop])
        return ttnn.reshape(self._magnitude(padded, rows), (1, 1, frames, self.bins))

    def _magnitude(self, padded: ttnn.Tensor, rows: int) -> ttnn.Tensor:
        """Padded signal [1, rows * hop] -> magnitudes [rows - k + 1, bins] of every frame in it."""
        frames = rows - self.rows_per_frame + 1
        # Reshape in TILE layout: a row-major reshape of one long row needs the whole row in one L1 page.
        grid = ttnn.reshape(ttnn.to_layout(padded, ttnn.TILE_LAYOUT), (rows, self.hop))
        # Frame t = rows t..t+k-1 side by side: [T, n_fft].
        stacked = ttnn.concat([ttnn.slice(grid, [j, 0], [j + frames, self.hop]) for j in range(self.rows_per_frame)], dim=-1)
        spectrum = ttnn.matmul(stacked, self.basis, compute_kernel_config=self.compute_config)  # [T, 2 * bins_padded]
        power = ttnn.square(spectrum)
        half = self.bins_padded
        power = ttnn.add(ttnn.slice(power, [0, 0], [frames, self.bins]), ttnn.slice(power, [0, half], [frames, half + self.bins]))
        return ttnn.sqrt(ttnn.add(power, MAGNITUDE_EPS))

    def batch_rows(self, frames: int) -> int:
        """Rows of hop samples `frames` frames read: the frames, plus the k - 1 rows the last one reads (what one item
        of a batch occupies)."""
        return frames + self.rows_per_frame - 1

    def pad_batch(self, waveforms: Sequence[torch.Tensor], frames: int) -> torch.Tensor:
        """Host: each mono waveform reflect-padded as the reference pads it, then zero-padded to
        `batch_rows(frames)` rows of hop samples, the items end to end: [1, B * rows * hop] float32 (what
        `batch` takes). The reflection is done here, not on device, because where it lands depends on each
        item's length while a batch region has one fixed shape."""
        rows = self.batch_rows(frames)
        items = []
        for waveform in waveforms:
            w = torch.as_tensor(waveform, dtype=torch.float32).reshape(1, 1, -1)
            if self.num_frames(w.shape[-1]) > frames:
                raise ValueError(f"{w.shape[-1]} samples give {self.num_frames(w.shape[-1])} frames > the batch's {frames}")
            w = torch.nn.functional.pad(w, (self.pad, self.pad), mode="reflect")[0, 0, : rows * self.hop]
            items.append(torch.nn.functional.pad(w, (0, rows * self.hop - w.numel())))
        return torch.cat(items).reshape(1, -1)

    def batch(self, padded: ttnn.Tensor, batch_size: int, frames: int) -> ttnn.Tensor:
        """`pad_batch`'s [1, B * rows * hop] on device -> time-major [1, 1, B * frames, bins]: the whole signal's
        frames in one matmul, then each item's first `frames` (the k - 1 frames straddling two items dropped).
        An item's frames past its own length are frames of zeros (the converter masks them)."""
        rows = self.batch_rows(frames)
        magnitude = self._magnitude(padded, batch_size * rows)
        items = [ttnn.slice(magnitude, [b * rows, 0], [b * rows + frames, self.bins]) for b in range(batch_size)]
        out = items[0] if batch_size == 1 else ttnn.concat(items, dim=0)
        return ttnn.reshape(out, (1, 1, batch_size * frames, self.bins))
