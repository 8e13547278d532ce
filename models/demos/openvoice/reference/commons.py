# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Small helpers shared by the reference modules (upstream `commons.py` / `modules.py`)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LRELU_SLOPE = 0.1  # leaky-ReLU slope inside HiFi-GAN (upstream modules.LRELU_SLOPE)


def get_padding(kernel_size: int, dilation: int = 1) -> int:
    """'Same' padding of a stride-1 dilated convolution."""
    return (kernel_size * dilation - dilation) // 2


def sequence_mask(lengths: torch.Tensor, max_length: int | None = None) -> torch.Tensor:
    """[B] lengths -> [B, max_length] boolean mask, True inside each item."""
    if max_length is None:
        max_length = int(lengths.max())
    positions = torch.arange(max_length, dtype=lengths.dtype, device=lengths.device)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)


def generate_path(duration: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Monotonic alignment from integer durations.

    duration: [B, 1, T_x]; mask: [B, 1, T_y, T_x] -> path [B, 1, T_y, T_x] with
    path[b, 0, y, x] = 1 where frame y belongs to token x.
    """
    b, _, t_y, t_x = mask.shape
    cum_duration = torch.cumsum(duration, -1)
    cum_duration_flat = cum_duration.view(b * t_x)
    path = sequence_mask(cum_duration_flat, t_y).to(mask.dtype)
    path = path.view(b, t_x, t_y)
    path = path - F.pad(path, [0, 0, 1, 0, 0, 0])[:, :-1]
    return path.unsqueeze(1).transpose(2, 3) * mask


def fused_add_tanh_sigmoid_multiply(input_a: torch.Tensor, input_b: torch.Tensor, n_channels: int) -> torch.Tensor:
    """WaveNet gate: tanh(first half) * sigmoid(second half) of a + b."""
    in_act = input_a + input_b
    return torch.tanh(in_act[:, :n_channels]) * torch.sigmoid(in_act[:, n_channels:])


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of a [B, C, T] tensor (upstream `modules.LayerNorm`).

    Parameter names `gamma` / `beta` match the official checkpoints.
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.channels = channels
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.transpose(1, -1)
        x = F.layer_norm(x, (self.channels,), self.gamma, self.beta, self.eps)
        return x.transpose(1, -1)
