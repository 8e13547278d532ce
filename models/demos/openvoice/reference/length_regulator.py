# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Durations -> frame alignment (upstream `SynthesizerTrn.infer`): w = exp(logw) * x_mask *
length_scale, rounded up per token; frames y belong to token x by a monotonic path; the
per-token prior statistics are then repeated over their frames."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from models.demos.openvoice.reference.commons import generate_path, sequence_mask


@dataclass
class LengthRegulation:
    w_ceil: torch.Tensor  # [B, 1, T_x] integer-valued float frame counts per token
    y_lengths: torch.Tensor  # [B] int64 frames per item (at least 1)
    y_mask: torch.Tensor  # [B, 1, T_y], T_y = max(y_lengths)
    attn: torch.Tensor  # [B, 1, T_y, T_x] one-hot rows (frame -> token); zero rows past y_length


def regulate_lengths(logw: torch.Tensor, x_mask: torch.Tensor, length_scale: float = 1.0) -> LengthRegulation:
    """logw, x_mask: [B, 1, T_x] -> alignment of every frame to its token."""
    w = torch.exp(logw) * x_mask * length_scale
    w_ceil = torch.ceil(w)
    y_lengths = torch.clamp_min(torch.sum(w_ceil, [1, 2]), 1).long()
    y_mask = sequence_mask(y_lengths, None).unsqueeze(1).to(x_mask.dtype)
    attn_mask = x_mask.unsqueeze(2) * y_mask.unsqueeze(-1)
    attn = generate_path(w_ceil, attn_mask)
    return LengthRegulation(w_ceil=w_ceil, y_lengths=y_lengths, y_mask=y_mask, attn=attn)


def expand(attn: torch.Tensor, stats: torch.Tensor) -> torch.Tensor:
    """Repeat per-token stats [B, C, T_x] over frames with attn [B, 1, T_y, T_x] -> [B, C, T_y]."""
    return torch.matmul(attn.squeeze(1), stats.transpose(1, 2)).transpose(1, 2)
