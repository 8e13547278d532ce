# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Posterior encoder q(z | spectrogram) (upstream `models.PosteriorEncoder`).

1x1 conv -> WaveNet -> 1x1 conv to mean and log-std, then a sample
z = (m + noise * tau * exp(logs)) * mask.
"""

from __future__ import annotations

import torch
from torch import nn

from models.demos.openvoice.reference.commons import sequence_mask
from models.demos.openvoice.reference.wavenet import WN


class PosteriorEncoder(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.pre = nn.Conv1d(in_channels, hidden_channels, 1)
        self.enc = WN(hidden_channels, kernel_size, dilation_rate, n_layers, gin_channels=gin_channels)
        self.proj = nn.Conv1d(hidden_channels, 2 * out_channels, 1)

    def forward(
        self,
        x: torch.Tensor,
        x_lengths: torch.Tensor,
        g: torch.Tensor | None = None,
        tau: float = 1.0,
        noise: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """x [B, in, T], x_lengths [B] -> (z, m, logs, x_mask); z, m, logs are [B, out, T].

        `noise` is the standard-normal draw [B, out, T] (sampled when None), so tests and
        the device port can inject the same draw.
        """
        x_mask = sequence_mask(x_lengths, x.size(2)).unsqueeze(1).to(x.dtype)
        x = self.pre(x) * x_mask
        x = self.enc(x, x_mask, g=g)
        stats = self.proj(x) * x_mask
        m, logs = torch.split(stats, self.out_channels, dim=1)
        if noise is None:
            noise = torch.randn_like(m)
        elif noise.shape != m.shape:
            raise ValueError(f"noise shape {tuple(noise.shape)} differs from the posterior's {tuple(m.shape)}")
        z = (m + noise * tau * torch.exp(logs)) * x_mask
        return z, m, logs, x_mask
