# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Normalising flow of the converter (upstream `modules.ResidualCouplingLayer`, `modules.Flip`,
`models.ResidualCouplingBlock`).

Each coupling layer keeps the first half of the channels and shifts (and, unless
mean_only, scales) the second half by a WaveNet function of the first half and the speaker
embedding g. A channel flip between layers lets every half be transformed in turn. The
converter maps a voice to a speaker-independent z_p with the source g (forward) and back
with the target g (reverse).
"""

from __future__ import annotations

import torch
from torch import nn

from models.demos.openvoice.reference.wavenet import WN


class ResidualCouplingLayer(nn.Module):
    def __init__(
        self,
        channels: int,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        gin_channels: int = 0,
        mean_only: bool = False,
    ) -> None:
        super().__init__()
        if channels % 2:
            raise ValueError(f"coupling needs an even channel count, got {channels}")
        self.half_channels = channels // 2
        self.mean_only = mean_only
        self.pre = nn.Conv1d(self.half_channels, hidden_channels, 1)
        self.enc = WN(hidden_channels, kernel_size, dilation_rate, n_layers, gin_channels=gin_channels)
        self.post = nn.Conv1d(hidden_channels, self.half_channels * (1 if mean_only else 2), 1)

    def forward(
        self,
        x: torch.Tensor,
        x_mask: torch.Tensor,
        g: torch.Tensor | None = None,
        reverse: bool = False,
    ) -> torch.Tensor:
        """x [B, C, T] -> [B, C, T]; the log-determinant (training only) is not computed."""
        x0, x1 = torch.split(x, [self.half_channels] * 2, dim=1)
        h = self.pre(x0) * x_mask
        h = self.enc(h, x_mask, g=g)
        stats = self.post(h) * x_mask
        if self.mean_only:
            m, logs = stats, torch.zeros_like(stats)
        else:
            m, logs = torch.split(stats, [self.half_channels] * 2, dim=1)
        # x0 passes through unmasked, exactly as upstream.
        if not reverse:
            x1 = m + x1 * torch.exp(logs) * x_mask
        else:
            x1 = (x1 - m) * torch.exp(-logs) * x_mask
        return torch.cat([x0, x1], dim=1)


class Flip(nn.Module):
    """Reverse the channel order (its own inverse). Parameter-free, but it occupies a
    `flows.<odd>` index so the coupling layers keep their upstream names `flows.0/2/4/6`."""

    def forward(
        self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None, reverse: bool = False
    ) -> torch.Tensor:
        return torch.flip(x, [1])


class ResidualCouplingBlock(nn.Module):
    def __init__(
        self,
        channels: int,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        n_flows: int = 4,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.flows = nn.ModuleList()
        for _ in range(n_flows):
            coupling = ResidualCouplingLayer(
                channels, hidden_channels, kernel_size, dilation_rate, n_layers, gin_channels=gin_channels, mean_only=True
            )
            self.flows.append(coupling)
            self.flows.append(Flip())

    def forward(
        self,
        x: torch.Tensor,
        x_mask: torch.Tensor,
        g: torch.Tensor | None = None,
        reverse: bool = False,
    ) -> torch.Tensor:
        """x [B, C, T] -> [B, C, T]; reverse runs the inverse layers in the opposite order."""
        flows = reversed(self.flows) if reverse else self.flows
        for flow in flows:
            x = flow(x, x_mask, g=g, reverse=reverse)
        return x
