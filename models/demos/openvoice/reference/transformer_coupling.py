# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""MeloTTS prior flow (upstream `TransformerCouplingBlock` in `melo/models.py` and
`TransformerCouplingLayer` in `melo/modules.py`): mean-only affine coupling layers whose
shift comes from a speaker-conditioned transformer `Encoder` (FFN kernel 5), with channel
flips in between. Inference runs it in reverse (z_p -> z)."""

from __future__ import annotations

import torch
from torch import nn

from models.demos.openvoice.reference.attentions import Encoder
from models.demos.openvoice.reference.stochastic_duration_predictor import Flip


class TransformerCouplingLayer(nn.Module):
    def __init__(
        self,
        channels: int,
        hidden_channels: int,
        kernel_size: int,
        n_layers: int,
        n_heads: int,
        filter_channels: int,
        mean_only: bool = True,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        if n_layers != 3:  # upstream asserts it; the speaker enters at encoder layer 2
            raise ValueError(f"TransformerCouplingLayer needs n_layers == 3 (upstream assert), got {n_layers}")
        if channels % 2:
            raise ValueError("channels should be divisible by 2")
        self.half_channels = channels // 2
        self.mean_only = mean_only
        self.pre = nn.Conv1d(self.half_channels, hidden_channels, 1)
        self.enc = Encoder(hidden_channels, filter_channels, n_heads, n_layers, kernel_size, gin_channels=gin_channels)
        self.post = nn.Conv1d(hidden_channels, self.half_channels * (2 - mean_only), 1)

    def forward(
        self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None, reverse: bool = True
    ) -> torch.Tensor:
        """Inverse (reverse=True, inference) or forward coupling of x [B, C, T]."""
        x0, x1 = torch.split(x, [self.half_channels] * 2, 1)
        h = self.enc(self.pre(x0) * x_mask, x_mask, g=g)
        stats = self.post(h) * x_mask
        if self.mean_only:
            m, logs = stats, torch.zeros_like(stats)
        else:
            m, logs = torch.split(stats, [self.half_channels] * 2, 1)
        if reverse:
            x1 = (x1 - m) * torch.exp(-logs) * x_mask
        else:
            x1 = m + x1 * torch.exp(logs) * x_mask
        return torch.cat([x0, x1], 1)


class TransformerCouplingBlock(nn.Module):
    """n_flows x (TransformerCouplingLayer, Flip); checkpoint keys `flows.{0,2,4,...}`."""

    def __init__(
        self,
        channels: int,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        n_flows: int = 4,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.flows = nn.ModuleList()
        for _ in range(n_flows):
            self.flows.append(
                TransformerCouplingLayer(
                    channels, hidden_channels, kernel_size, n_layers, n_heads, filter_channels,
                    mean_only=True, gin_channels=gin_channels,
                )
            )
            self.flows.append(Flip())

    def forward(
        self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None, reverse: bool = True
    ) -> torch.Tensor:
        flows = reversed(self.flows) if reverse else self.flows
        for flow in flows:
            x = flow(x, x_mask, g=g, reverse=reverse)
        return x
