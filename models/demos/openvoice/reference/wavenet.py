# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Non-causal gated WaveNet stack (upstream `modules.WN`), used by the posterior encoder and
the coupling layers of the flow.

Layer i: dilated conv (dilation_rate**i) -> + speaker conditioning slice i -> tanh * sigmoid
-> 1x1 conv split into a residual part (added back to x) and a skip part (summed into the
output). The last layer has no residual half. Dropout is 0 at inference and omitted.
"""

from __future__ import annotations

import torch
from torch import nn

from models.demos.openvoice.reference.commons import fused_add_tanh_sigmoid_multiply, get_padding


class WN(nn.Module):
    def __init__(
        self,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"WN needs an odd kernel size, got {kernel_size}")
        self.hidden_channels = hidden_channels
        self.n_layers = n_layers
        self.gin_channels = gin_channels
        if gin_channels:
            # One 1x1 conv produces the conditioning of every layer; layer i reads slice i.
            self.cond_layer = nn.Conv1d(gin_channels, 2 * hidden_channels * n_layers, 1)
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        for i in range(n_layers):
            dilation = dilation_rate**i
            self.in_layers.append(
                nn.Conv1d(
                    hidden_channels,
                    2 * hidden_channels,
                    kernel_size,
                    dilation=dilation,
                    padding=get_padding(kernel_size, dilation),
                )
            )
            res_skip_channels = 2 * hidden_channels if i < n_layers - 1 else hidden_channels
            self.res_skip_layers.append(nn.Conv1d(hidden_channels, res_skip_channels, 1))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, H, T], x_mask [B, 1, T], g [B, gin, 1] or None -> [B, H, T] (masked)."""
        h = self.hidden_channels
        output = torch.zeros_like(x)
        cond = self.cond_layer(g) if g is not None else None
        for i in range(self.n_layers):
            x_in = self.in_layers[i](x)
            g_l = cond[:, 2 * h * i : 2 * h * (i + 1)] if cond is not None else torch.zeros_like(x_in)
            acts = fused_add_tanh_sigmoid_multiply(x_in, g_l, h)
            res_skip = self.res_skip_layers[i](acts)
            if i < self.n_layers - 1:
                x = (x + res_skip[:, :h]) * x_mask
                output = output + res_skip[:, h:]
            else:
                output = output + res_skip
        return output * x_mask
