# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""TTNN normalising flow (reference `residual_coupling.ResidualCouplingBlock`), forward and reverse.

No channel split, concat or flip runs on device. Every coupling layer works on the full
C-channel vector in the block's input channel order:

* the Flip between layers is folded into the weights: coupling l sees the channels reversed
  when l is odd, so its pre conv reads, and its post conv writes, the permuted channels;
* the split is folded too: the pre weight is zero-padded to all C inputs (zero rows for the
  x1 half) and the post weight/bias to all C outputs (zero for the x0 half), so the layer
  is ``x + m_full`` forward and ``x - m_full`` reverse (mean_only: logs = 0).

Exactness: upstream computes x1' = m + x1 * mask (forward) and (x1 - m) * mask (reverse) and
passes x0 unmasked. The flow's input z is masked and m is masked, so x1 * mask == x1 and
x0 + 0 == x0: the full-vector form is the same arithmetic (bf16 adds of exact zeros).
With an even number of couplings the flips cancel and the output is in input order.
fp32 accumulation (`conv.precise_compute_config`): the reverse flow must undo the forward flow; errors in m are not
damped by any later mask and accumulate over 2 x 4 couplings x 4 WaveNet layers.
"""

from __future__ import annotations

from typing import Iterable

import torch
import ttnn
from torch import nn

from models.demos.openvoice.reference.residual_coupling import ResidualCouplingBlock, ResidualCouplingLayer
from models.demos.openvoice.reference.transformer_coupling import TransformerCouplingLayer
from models.demos.openvoice.tt.conv import TtConv1d
from models.demos.openvoice.tt.wavenet import SpeakerRows, TtWN


def full_channel_weights(
    layer: ResidualCouplingLayer | TransformerCouplingLayer, flipped: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(pre_w [H, C, 1], pre_b, post_w [C, H, 1], post_b [C]) of a mean-only coupling layer (WaveNet or
    transformer shift network: only `half_channels`, `pre` and `post` are read) acting
    on the full channel vector; `flipped`: the layer sees the channels in reverse order."""
    half = layer.half_channels
    channels = 2 * half
    order = torch.arange(channels).flip(0) if flipped else torch.arange(channels)  # layer channel -> block channel
    dtype = layer.pre.weight.dtype
    pre_w = torch.zeros(layer.pre.out_channels, channels, 1, dtype=dtype)
    pre_w[:, order[:half]] = layer.pre.weight.detach()
    post_w = torch.zeros(channels, layer.post.in_channels, 1, dtype=dtype)
    post_b = torch.zeros(channels, dtype=dtype)
    post_w[order[half:]] = layer.post.weight.detach()
    post_b[order[half:]] = layer.post.bias.detach()
    return pre_w, layer.pre.bias.detach(), post_w, post_b


FoldedCoupling = tuple[
    ResidualCouplingLayer | TransformerCouplingLayer, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor
]


def folded_couplings(flows: Iterable[nn.Module], layer_type: type) -> list[FoldedCoupling]:
    """(layer, pre_w, pre_b, post_w, post_b) of every coupling of a (coupling, Flip)* flow, the flips
    and splits folded (`full_channel_weights`: odd couplings see the channels reversed). Shared by the
    converter's WaveNet flow and MeloTTS's transformer flow."""
    flows = list(flows)
    couplings = [flow for flow in flows if isinstance(flow, layer_type)]
    if len(couplings) % 2 or len(flows) != 2 * len(couplings):
        raise NotImplementedError("the folded flips need coupling/flip pairs and an even number of couplings")
    if not all(layer.mean_only for layer in couplings):
        raise NotImplementedError("only mean-only coupling layers (every OpenVoice and MeloTTS flow) are supported")
    return [(layer, *full_channel_weights(layer, flipped=index % 2 == 1)) for index, layer in enumerate(couplings)]


class TtResidualCouplingBlock:
    def __init__(
        self,
        device: ttnn.Device,
        ref: ResidualCouplingBlock,
        *,
        compute: ttnn.DeviceComputeKernelConfig,
        weights_dtype: ttnn.DataType = ttnn.bfloat16,
    ) -> None:
        conv = dict(compute=compute, weights_dtype=weights_dtype)
        self.layers: list[tuple[TtConv1d, TtWN, TtConv1d]] = []
        for layer, pre_w, pre_b, post_w, post_b in folded_couplings(ref.flows, ResidualCouplingLayer):
            self.layers.append(
                (
                    TtConv1d(device, pre_w, pre_b, **conv),
                    TtWN(device, layer.enc, zero_cond=False, **conv),
                    TtConv1d(device, post_w, post_b, **conv),
                )
            )

    def __call__(
        self,
        x: ttnn.Tensor,
        mask: ttnn.Tensor,
        batch_size: int,
        length: int,
        speaker: SpeakerRows,
        reverse: bool = False,
    ) -> ttnn.Tensor:
        """x [1,1,B*T,C] masked, speaker (g, S) -> flow(x) (or its inverse), [1,1,B*T,C] masked."""
        for pre, enc, post in reversed(self.layers) if reverse else self.layers:
            h = ttnn.multiply(pre(x, batch_size, length), mask)
            h = enc(h, mask, batch_size, length, speaker)
            m = ttnn.multiply(post(h, batch_size, length), mask)
            x = ttnn.subtract(x, m) if reverse else ttnn.add(x, m)
        return x
