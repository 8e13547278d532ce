# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""HiFi-GAN decoder (upstream `models.Generator`, `modules.ResBlock1`, `modules.ResBlock2`),
shared by the tone-colour converter and MeloTTS.

conv_pre (k7) [+ 1x1 speaker conditioning] -> per stage: leaky-ReLU(0.1), transposed-conv
upsampling, mean of the multi-receptive-field residual blocks -> leaky-ReLU(0.01, torch's
default, as upstream) -> conv_post (k7, no bias) -> tanh.

Upstream's decoder takes no mask: in a padded batch, a shorter item's padded frames (zero
input, but conv_pre's bias there) reach its last frames through every conv's receptive field.
`forward(x_mask=...)` is this port's opt-in per-item masking: each conv input is zeroed past
the item's length (the frame mask repeated to every stage's rate), so every item of a batch
gives exactly what it gives alone, as upstream's per-sentence loop does. Without x_mask the
forward is upstream's.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from models.demos.openvoice.reference.commons import LRELU_SLOPE, get_padding


def _same_conv(channels: int, kernel_size: int, dilation: int) -> nn.Conv1d:
    return nn.Conv1d(channels, channels, kernel_size, 1, dilation=dilation, padding=get_padding(kernel_size, dilation))


class ResBlock1(nn.Module):
    """Three residual units, each a dilated conv then an undilated conv, leaky-ReLU before both."""

    def __init__(self, channels: int, kernel_size: int = 3, dilation: Sequence[int] = (1, 3, 5)) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(_same_conv(channels, kernel_size, d) for d in dilation[:3])
        self.convs2 = nn.ModuleList(_same_conv(channels, kernel_size, 1) for _ in range(3))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor | None = None) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = F.leaky_relu(x, LRELU_SLOPE)
            if x_mask is not None:
                xt = xt * x_mask
            xt = c1(xt)
            xt = F.leaky_relu(xt, LRELU_SLOPE)
            if x_mask is not None:
                xt = xt * x_mask
            x = c2(xt) + x
        if x_mask is not None:
            x = x * x_mask
        return x


class ResBlock2(nn.Module):
    """Two residual units of one dilated conv each (the lighter HiFi-GAN V3 block)."""

    def __init__(self, channels: int, kernel_size: int = 3, dilation: Sequence[int] = (1, 3)) -> None:
        super().__init__()
        self.convs = nn.ModuleList(_same_conv(channels, kernel_size, d) for d in dilation[:2])

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor | None = None) -> torch.Tensor:
        for conv in self.convs:
            xt = F.leaky_relu(x, LRELU_SLOPE)
            if x_mask is not None:
                xt = xt * x_mask
            x = conv(xt) + x
        if x_mask is not None:
            x = x * x_mask
        return x


class Generator(nn.Module):
    def __init__(
        self,
        initial_channel: int,
        resblock: str,
        resblock_kernel_sizes: Sequence[int],
        resblock_dilation_sizes: Sequence[Sequence[int]],
        upsample_rates: Sequence[int],
        upsample_initial_channel: int,
        upsample_kernel_sizes: Sequence[int],
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.num_kernels = len(resblock_kernel_sizes)
        self.num_upsamples = len(upsample_rates)
        block = ResBlock1 if str(resblock) == "1" else ResBlock2
        self.conv_pre = nn.Conv1d(initial_channel, upsample_initial_channel, 7, 1, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        ch = upsample_initial_channel
        for i, (rate, kernel) in enumerate(zip(upsample_rates, upsample_kernel_sizes)):
            ch = upsample_initial_channel // (2 ** (i + 1))
            self.ups.append(nn.ConvTranspose1d(2 * ch, ch, kernel, rate, padding=(kernel - rate) // 2))
        for i in range(self.num_upsamples):
            ch = upsample_initial_channel // (2 ** (i + 1))
            for kernel, dilation in zip(resblock_kernel_sizes, resblock_dilation_sizes):
                self.resblocks.append(block(ch, kernel, dilation))
        self.conv_post = nn.Conv1d(ch, 1, 7, 1, padding=3, bias=False)
        if gin_channels:
            self.cond = nn.Conv1d(gin_channels, upsample_initial_channel, 1)

    def forward(self, x: torch.Tensor, g: torch.Tensor | None = None, x_mask: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, initial_channel, T], g [B, gin, 1] or None, x_mask [B, 1, T] 0/1 or None (per-item
        masking, see the module doc; x must already be zero past each length) -> audio
        [B, 1, T * prod(upsample_rates)]."""
        x = self.conv_pre(x)
        if g is not None:
            x = x + self.cond(g)
        for i in range(self.num_upsamples):
            x = F.leaky_relu(x, LRELU_SLOPE)
            if x_mask is not None:
                x = x * x_mask
                x_mask = x_mask.repeat_interleave(self.ups[i].stride[0], dim=2)
            x = self.ups[i](x)
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            xs = blocks[0](x, x_mask)
            for block in blocks[1:]:
                xs = xs + block(x, x_mask)
            x = xs / self.num_kernels
        x = F.leaky_relu(x)  # default slope 0.01, not LRELU_SLOPE: upstream quirk kept
        if x_mask is not None:
            x = x * x_mask
        x = self.conv_post(x)
        return torch.tanh(x)
