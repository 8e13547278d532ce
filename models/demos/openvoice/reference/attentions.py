# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Transformer encoder of MeloTTS (upstream `melo/attentions.py`): relative-position
multi-head self-attention, convolutional FFN, and the speaker-conditioned `Encoder`.

Inference path only (no dropout). Parameter names match the official checkpoints.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from models.demos.openvoice.reference.commons import ChannelLayerNorm

MASK_VALUE = -1e4  # upstream fills masked scores with -1e4, not -inf


class MultiHeadAttention(nn.Module):
    """Self-attention with learned relative-position embeddings for offsets in [-window_size, window_size].

    Scores: q.k / sqrt(d) + q.emb_rel_k[j - i] / sqrt(d); output: sum_j p_ij (v_j + emb_rel_v[j - i]),
    offsets outside the window contribute nothing. Computed with upstream's pad/reshape
    "skew" trick so the float operations are those of upstream.
    """

    def __init__(
        self,
        channels: int,
        out_channels: int,
        n_heads: int,
        window_size: int | None = None,
        heads_share: bool = True,
    ) -> None:
        super().__init__()
        if channels % n_heads:
            raise ValueError(f"channels ({channels}) must be divisible by n_heads ({n_heads})")
        self.n_heads = n_heads
        self.k_channels = channels // n_heads
        self.window_size = window_size
        self.conv_q = nn.Conv1d(channels, channels, 1)
        self.conv_k = nn.Conv1d(channels, channels, 1)
        self.conv_v = nn.Conv1d(channels, channels, 1)
        self.conv_o = nn.Conv1d(channels, out_channels, 1)
        if window_size is not None:
            n_heads_rel = 1 if heads_share else n_heads
            std = self.k_channels**-0.5
            self.emb_rel_k = nn.Parameter(torch.randn(n_heads_rel, 2 * window_size + 1, self.k_channels) * std)
            self.emb_rel_v = nn.Parameter(torch.randn(n_heads_rel, 2 * window_size + 1, self.k_channels) * std)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        """x: [B, C, T]; attn_mask: [B, 1, T, T] (0 = masked) -> [B, out_channels, T]."""
        b, d, t = x.shape
        # [B, C, T] -> [B, heads, T, k]
        q = self.conv_q(x).view(b, self.n_heads, self.k_channels, t).transpose(2, 3)
        k = self.conv_k(x).view(b, self.n_heads, self.k_channels, t).transpose(2, 3)
        v = self.conv_v(x).view(b, self.n_heads, self.k_channels, t).transpose(2, 3)

        q_scaled = q / math.sqrt(self.k_channels)
        scores = torch.matmul(q_scaled, k.transpose(-2, -1))
        if self.window_size is not None:
            rel_k = self._relative_embeddings(self.emb_rel_k, t)  # [h, 2T-1, k]
            rel_logits = torch.matmul(q_scaled, rel_k.unsqueeze(0).transpose(-2, -1))  # [B, h, T, 2T-1]
            scores = scores + _relative_to_absolute(rel_logits)
        if attn_mask is not None:
            scores = scores.masked_fill(attn_mask == 0, MASK_VALUE)
        p_attn = F.softmax(scores, dim=-1)
        out = torch.matmul(p_attn, v)
        if self.window_size is not None:
            rel_v = self._relative_embeddings(self.emb_rel_v, t)
            out = out + torch.matmul(_absolute_to_relative(p_attn), rel_v.unsqueeze(0))
        out = out.transpose(2, 3).contiguous().view(b, d, t)
        return self.conv_o(out)

    def _relative_embeddings(self, table: torch.Tensor, length: int) -> torch.Tensor:
        """[h, 2w+1, k] table -> [h, 2*length-1, k] rows for offsets -(length-1)..(length-1), zero outside the window."""
        w = self.window_size
        pad = max(length - (w + 1), 0)
        start = max((w + 1) - length, 0)
        if pad > 0:
            table = F.pad(table, [0, 0, pad, pad])
        return table[:, start : start + 2 * length - 1]


def _relative_to_absolute(x: torch.Tensor) -> torch.Tensor:
    """[B, h, T, 2T-1] indexed by (i, j - i + T - 1) -> [B, h, T, T] indexed by (i, j)."""
    b, h, t, _ = x.shape
    x = F.pad(x, [0, 1])
    x = F.pad(x.view(b, h, t * 2 * t), [0, t - 1])
    return x.view(b, h, t + 1, 2 * t - 1)[:, :, :t, t - 1 :]


def _absolute_to_relative(x: torch.Tensor) -> torch.Tensor:
    """[B, h, T, T] indexed by (i, j) -> [B, h, T, 2T-1] indexed by (i, j - i + T - 1)."""
    b, h, t, _ = x.shape
    x = F.pad(x, [0, t - 1])
    x = F.pad(x.view(b, h, t * t + t * (t - 1)), [t, 0])
    return x.view(b, h, t, 2 * t)[:, :, :, 1:]


class FFN(nn.Module):
    """conv(k) -> ReLU -> conv(k), 'same' padding (left (k-1)//2, right k//2), inputs masked before each conv."""

    def __init__(self, in_channels: int, out_channels: int, filter_channels: int, kernel_size: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.conv_1 = nn.Conv1d(in_channels, filter_channels, kernel_size)
        self.conv_2 = nn.Conv1d(filter_channels, out_channels, kernel_size)

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel_size == 1:
            return x
        return F.pad(x, [(self.kernel_size - 1) // 2, self.kernel_size // 2])

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv_1(self._pad(x * x_mask)))
        x = self.conv_2(self._pad(x * x_mask))
        return x * x_mask


class Encoder(nn.Module):
    """Post-norm transformer stack; with gin_channels > 0 the speaker embedding, through
    `spk_emb_linear`, is added to the hidden state before layer `cond_layer_idx` (VITS2: 3rd block)."""

    def __init__(
        self,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int = 1,
        window_size: int = 4,
        gin_channels: int = 0,
        cond_layer_idx: int = 2,
    ) -> None:
        super().__init__()
        self.n_layers = n_layers
        self.cond_layer_idx = n_layers  # never reached: no conditioning
        if gin_channels:
            if cond_layer_idx >= n_layers:
                raise ValueError(f"cond_layer_idx ({cond_layer_idx}) must be less than n_layers ({n_layers})")
            self.spk_emb_linear = nn.Linear(gin_channels, hidden_channels)
            self.cond_layer_idx = cond_layer_idx
        self.attn_layers = nn.ModuleList()
        self.norm_layers_1 = nn.ModuleList()
        self.ffn_layers = nn.ModuleList()
        self.norm_layers_2 = nn.ModuleList()
        for _ in range(n_layers):
            self.attn_layers.append(MultiHeadAttention(hidden_channels, hidden_channels, n_heads, window_size=window_size))
            self.norm_layers_1.append(ChannelLayerNorm(hidden_channels))
            self.ffn_layers.append(FFN(hidden_channels, hidden_channels, filter_channels, kernel_size))
            self.norm_layers_2.append(ChannelLayerNorm(hidden_channels))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """x: [B, C, T]; x_mask: [B, 1, T]; g: [B, gin, 1] or None -> [B, C, T]."""
        attn_mask = x_mask.unsqueeze(2) * x_mask.unsqueeze(-1)
        x = x * x_mask
        for i in range(self.n_layers):
            if i == self.cond_layer_idx and g is not None:
                x = x + self.spk_emb_linear(g.transpose(1, 2)).transpose(1, 2)
                x = x * x_mask
            x = self.norm_layers_1[i](x + self.attn_layers[i](x, attn_mask))
            x = self.norm_layers_2[i](x + self.ffn_layers[i](x, x_mask))
        return x * x_mask
