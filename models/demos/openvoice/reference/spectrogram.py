# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Linear magnitude spectrogram, as upstream `mel_processing.spectrogram_torch(center=False)`.

The converter's posterior encoder and reference encoder both read this spectrogram. The
waveform is reflect-padded by (n_fft - hop) / 2 on each side and framed without centring,
so a clip of N samples gives N // hop frames (for even n_fft - hop) and frame t is centred
on sample t * hop + hop / 2.
"""

from __future__ import annotations

from typing import Sequence

import torch
from loguru import logger

# Added under the square root so the magnitude (and its gradient) is never exactly zero.
MAGNITUDE_EPS = 1e-6


def _side_padding(n_fft: int, hop_length: int) -> int:
    # Upstream computes int((n_fft - hop) / 2): truncation towards zero.
    return int((n_fft - hop_length) / 2)


def spectrogram(
    y: torch.Tensor,
    n_fft: int = 1024,
    hop_length: int = 256,
    win_length: int = 1024,
) -> torch.Tensor:
    """Waveform [B, N] -> linear magnitude spectrogram [B, n_fft // 2 + 1, T].

    Every item of the batch is padded by reflection at its own end of the tensor, so a
    zero-padded shorter item differs from its stand-alone spectrogram in its last frames;
    compute such items one at a time and zero-pad the spectrograms (see
    `spectrogram_lengths`).
    """
    if y.dim() != 2:
        raise ValueError(f"spectrogram expects a [B, N] waveform, got shape {tuple(y.shape)}")
    peak = float(y.abs().max()) if y.numel() else 0.0
    if peak > 1.1:
        # Upstream prints the same warning: the models were trained on audio in [-1, 1].
        logger.warning(f"waveform peak {peak:.3f} is outside [-1.1, 1.1]")
    pad = _side_padding(n_fft, hop_length)
    y = torch.nn.functional.pad(y.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    window = torch.hann_window(win_length, dtype=y.dtype, device=y.device)
    spec = torch.stft(
        y,
        n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=False,
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    return torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + MAGNITUDE_EPS)


def spectrogram_lengths(
    num_samples: Sequence[int] | torch.Tensor,
    n_fft: int = 1024,
    hop_length: int = 256,
) -> torch.Tensor:
    """Frames `spectrogram` gives for clips of the given sample counts: int64 [B].

    Use it for `spec_lengths` when the clips of a batch have different lengths.
    """
    samples = torch.as_tensor(num_samples, dtype=torch.int64).reshape(-1)
    pad = _side_padding(n_fft, hop_length)
    if bool((samples <= pad).any()) or bool((samples + 2 * pad < n_fft).any()):
        # Reflection padding cannot pad by as much as the clip is long.
        raise ValueError(f"clips need more than {max(pad, n_fft - 2 * pad - 1)} samples, got {samples.tolist()}")
    return torch.div(samples + 2 * pad - n_fft, hop_length, rounding_mode="floor") + 1
