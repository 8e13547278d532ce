# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Stochastic duration predictor (upstream `melo/models.py::StochasticDurationPredictor`) and
its flow pieces (upstream `melo/modules.py`: DDSConv, ConvFlow, ElementwiseAffine, Log, Flip).

Inference runs the flows in reverse from a standard-normal draw to log-durations. The
posterior branch (`post_*`) only serves training, but it is declared so official
checkpoints load strictly; it is never run.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from models.demos.openvoice.reference.commons import ChannelLayerNorm
from models.demos.openvoice.reference.transforms import piecewise_rational_quadratic_transform


class DDSConv(nn.Module):
    """Dilated depth-separable conv stack: per layer, depthwise conv (dilation kernel_size**i)
    -> LN -> GELU -> 1x1 conv -> LN -> GELU, residual; input masked before each depthwise conv."""

    def __init__(self, channels: int, kernel_size: int, n_layers: int) -> None:
        super().__init__()
        self.n_layers = n_layers
        self.convs_sep = nn.ModuleList()
        self.convs_1x1 = nn.ModuleList()
        self.norms_1 = nn.ModuleList()
        self.norms_2 = nn.ModuleList()
        for i in range(n_layers):
            dilation = kernel_size**i
            padding = (kernel_size * dilation - dilation) // 2
            self.convs_sep.append(
                nn.Conv1d(channels, channels, kernel_size, groups=channels, dilation=dilation, padding=padding)
            )
            self.convs_1x1.append(nn.Conv1d(channels, channels, 1))
            self.norms_1.append(ChannelLayerNorm(channels))
            self.norms_2.append(ChannelLayerNorm(channels))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        if g is not None:
            x = x + g
        for i in range(self.n_layers):
            y = F.gelu(self.norms_1[i](self.convs_sep[i](x * x_mask)))
            y = F.gelu(self.norms_2[i](self.convs_1x1[i](y)))
            x = x + y
        return x * x_mask


class Flip(nn.Module):
    """Reverse the channel order (its own inverse)."""

    def forward(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        return torch.flip(x, [1])


class Log(nn.Module):
    """y = log(max(x, 1e-5)); inverse x = exp(y). Only the first SDP flow; unused at inference."""

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, reverse: bool = True, **kwargs) -> torch.Tensor:
        if reverse:
            return torch.exp(x) * x_mask
        return torch.log(torch.clamp_min(x, 1e-5)) * x_mask


class ElementwiseAffine(nn.Module):
    """y = m + exp(logs) * x per channel; inverse x = (y - m) * exp(-logs)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.m = nn.Parameter(torch.zeros(channels, 1))
        self.logs = nn.Parameter(torch.zeros(channels, 1))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, reverse: bool = True, **kwargs) -> torch.Tensor:
        if reverse:
            return (x - self.m) * torch.exp(-self.logs) * x_mask
        return (self.m + torch.exp(self.logs) * x) * x_mask


class ConvFlow(nn.Module):
    """Coupling flow: the first channel half, through a DDSConv, parameterises a
    rational-quadratic spline (linear tails at +-tail_bound) applied to the second half."""

    def __init__(
        self,
        in_channels: int,
        filter_channels: int,
        kernel_size: int,
        n_layers: int,
        num_bins: int = 10,
        tail_bound: float = 5.0,
    ) -> None:
        super().__init__()
        self.filter_channels = filter_channels
        self.num_bins = num_bins
        self.tail_bound = tail_bound
        self.half_channels = in_channels // 2
        self.pre = nn.Conv1d(self.half_channels, filter_channels, 1)
        self.convs = DDSConv(filter_channels, kernel_size, n_layers)
        self.proj = nn.Conv1d(filter_channels, self.half_channels * (num_bins * 3 - 1), 1)

    def forward(
        self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None, reverse: bool = True
    ) -> torch.Tensor:
        x0, x1 = torch.split(x, [self.half_channels] * 2, 1)
        h = self.convs(self.pre(x0), x_mask, g=g)
        h = self.proj(h) * x_mask
        b, c, t = x0.shape
        h = h.reshape(b, c, -1, t).permute(0, 1, 3, 2)  # [B, c, T, 3K-1]
        scale = math.sqrt(self.filter_channels)
        x1, _ = piecewise_rational_quadratic_transform(
            x1,
            h[..., : self.num_bins] / scale,
            h[..., self.num_bins : 2 * self.num_bins] / scale,
            h[..., 2 * self.num_bins :],
            inverse=reverse,
            tails="linear",
            tail_bound=self.tail_bound,
        )
        return torch.cat([x0, x1], 1) * x_mask


class StochasticDurationPredictor(nn.Module):
    def __init__(self, in_channels: int, kernel_size: int = 3, n_flows: int = 4, gin_channels: int = 0) -> None:
        super().__init__()
        # Upstream takes a filter_channels argument (192) and overwrites it with in_channels.
        filter_channels = in_channels
        self.log_flow = Log()
        self.flows = nn.ModuleList([ElementwiseAffine(2)])
        for _ in range(n_flows):
            self.flows.append(ConvFlow(2, filter_channels, kernel_size, n_layers=3))
            self.flows.append(Flip())

        # Posterior (training-only) branch: declared for strict checkpoint loading, never run.
        self.post_pre = nn.Conv1d(1, filter_channels, 1)
        self.post_proj = nn.Conv1d(filter_channels, filter_channels, 1)
        self.post_convs = DDSConv(filter_channels, kernel_size, n_layers=3)
        self.post_flows = nn.ModuleList([ElementwiseAffine(2)])
        for _ in range(4):
            self.post_flows.append(ConvFlow(2, filter_channels, kernel_size, n_layers=3))
            self.post_flows.append(Flip())

        self.pre = nn.Conv1d(in_channels, filter_channels, 1)
        self.proj = nn.Conv1d(filter_channels, filter_channels, 1)
        self.convs = DDSConv(filter_channels, kernel_size, n_layers=3)
        if gin_channels:
            self.cond = nn.Conv1d(gin_channels, filter_channels, 1)

    def forward(
        self,
        x: torch.Tensor,
        x_mask: torch.Tensor,
        g: torch.Tensor | None = None,
        noise_scale: float = 1.0,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Sample log-durations [B, 1, T] (0 where masked).

        noise: the standard-normal draw [B, 2, T] (upstream `torch.randn`), scaled here by
        noise_scale; sampled when None.
        """
        h = self.pre(x)
        if g is not None:
            h = h + self.cond(g)
        h = self.convs(h, x_mask)
        h = self.proj(h) * x_mask

        if noise is None:
            noise = torch.randn(x.size(0), 2, x.size(2), dtype=x.dtype, device=x.device)
        elif noise.shape != (x.size(0), 2, x.size(2)):
            raise ValueError(f"SDP noise must be {(x.size(0), 2, x.size(2))}, got {tuple(noise.shape)}")
        z = noise * noise_scale
        # Reverse order; upstream drops the first ConvFlow ("a useless vflow"): flows.1 is never run.
        flows = list(reversed(self.flows))
        flows = flows[:-2] + [flows[-1]]
        for flow in flows:
            z = flow(z, x_mask, g=h, reverse=True)
        return z[:, :1]
