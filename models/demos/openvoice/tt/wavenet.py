# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""TTNN WaveNet stack (reference `wavenet.WN`) on time-major ``[1, 1, B*T, H]`` activations.

Per layer: dilated k-conv (``TtConv1d``) -> + speaker conditioning -> tanh(first half) *
sigmoid(second half) -> two 1x1 convs (residual, skip). Preprocessing at load:

* the 1x1 res/skip conv is split into a residual and a skip conv (no channel slicing of
  its output); the gate's two halves are tile-aligned column slices of one conv output
  (one k-conv with 2H outputs rather than two, so the halo/sharding work is done once);
* the conditioning 1x1 conv (gin -> 2H*n_layers) is split per layer; its bias is folded
  into the layer's in-conv bias, so with `zero_cond` (V2's zero_g encoder) no conditioning
  op runs at all and the biases are still applied, as upstream;
* per-item conditioning (:class:`SpeakerRows`): the caller passes the speaker embeddings
  ``g`` ``[1, 1, B, gin]`` and the host-built 0/1 segment matrix S ``[1, 1, B*T, B]`` (row
  b*T + t has its 1 in column b). Each layer projects the B embeddings once,
  ``g @ W_cond_l`` -> ``[B, 2H]`` (K = gin over B rows), and expands them to the rows with
  ``S @ (g @ W_cond_l)`` (K = B): per row a K=B selection instead of a K=gin product over all
  B*T rows. No reshape of the time axis (T is not a multiple of 32, so a [B, T, C] view
  would re-tile). Exact for any batch: S has one 1 per row, so the expansion copies the bf16
  projection (a bf16 x has 7 mantissa bits, fewer than either multiplier operand consumes
  at HiFi3, so 1.0 * x is exact).
"""

from __future__ import annotations

from dataclasses import dataclass

import ttnn

from models.demos.openvoice.reference.commons import get_padding
from models.demos.openvoice.reference.wavenet import WN
from models.demos.openvoice.tt.commons import select_rows_float32
from models.demos.openvoice.tt.conv import TtConv1d


@dataclass(frozen=True)
class SpeakerRows:
    """Per-item speaker conditioning: embeddings ``g`` [1, 1, B, gin] and segment matrix S [1, 1, B*T, B]."""

    segments: ttnn.Tensor
    g: ttnn.Tensor

    def project(self, conv: TtConv1d) -> ttnn.Tensor:
        """The 1x1 conv `conv` of every row's item embedding, [1, 1, B*T, Co]: ``S @ (g @ W)``,
        the projection computed on the B items, then copied to their rows (K = B)."""
        per_item = conv(self.g, 1, int(self.g.shape[-2]))  # pointwise: a linear on [B, gin]
        if per_item.dtype == ttnn.float32:  # S is 0/1: the float32 rows copied exactly
            return select_rows_float32(self.segments, per_item)
        return ttnn.matmul(self.segments, per_item, compute_kernel_config=conv.compute, dtype=conv.dtype)


class TtWN:
    def __init__(
        self,
        device: ttnn.Device,
        wn: WN,
        *,
        zero_cond: bool,
        compute: ttnn.DeviceComputeKernelConfig,
        weights_dtype: ttnn.DataType = ttnn.bfloat16,
    ) -> None:
        h = wn.hidden_channels
        conv_args = dict(compute=compute, weights_dtype=weights_dtype)
        self.hidden = h
        self.n_layers = wn.n_layers
        cond_w = cond_b = None
        if wn.gin_channels:
            cond_w, cond_b = wn.cond_layer.weight.detach(), wn.cond_layer.bias.detach()
        self.in_layers: list[TtConv1d] = []
        self.cond_layers: list[TtConv1d] = []
        self.res_layers: list[TtConv1d] = []
        self.skip_layers: list[TtConv1d] = []
        for i in range(wn.n_layers):
            conv = wn.in_layers[i]
            bias = conv.bias.detach().clone()
            if cond_b is not None:
                # cond bias folded into the in-conv bias at load (with zero_g it is all the conditioning)
                bias += cond_b[2 * h * i : 2 * h * (i + 1)]
                if not zero_cond:
                    cond_layer = TtConv1d(device, cond_w[2 * h * i : 2 * h * (i + 1)], None, **conv_args)
                    self.cond_layers.append(cond_layer)
            dilation = conv.dilation[0]
            padding = get_padding(conv.kernel_size[0], dilation)
            self.in_layers.append(
                TtConv1d(device, conv.weight.detach(), bias, padding=padding, dilation=dilation, **conv_args)
            )
            rs = wn.res_skip_layers[i]
            w, b = rs.weight.detach(), rs.bias.detach()
            if i < wn.n_layers - 1:
                self.res_layers.append(TtConv1d(device, w[:h], b[:h], **conv_args))
                self.skip_layers.append(TtConv1d(device, w[h:], b[h:], **conv_args))
            else:
                self.skip_layers.append(TtConv1d(device, w, b, **conv_args))

    def __call__(
        self, x: ttnn.Tensor, mask: ttnn.Tensor, batch_size: int, length: int, speaker: SpeakerRows | None = None
    ) -> ttnn.Tensor:
        """x [1,1,B*T,H] (masked), mask [1,1,B*T,1], speaker (g, S) or None -> [1,1,B*T,H] masked."""
        if self.cond_layers and speaker is None:
            raise ValueError("this WaveNet is conditioned: pass the speaker rows")
        rows, h = batch_size * length, self.hidden
        output = None
        for i in range(self.n_layers):
            x_in = self.in_layers[i](x, batch_size, length)
            if self.cond_layers:
                x_in = ttnn.add(x_in, speaker.project(self.cond_layers[i]))
            gate_t = ttnn.tanh(ttnn.slice(x_in, [0, 0, 0, 0], [1, 1, rows, h]))
            gate_s = ttnn.sigmoid(ttnn.slice(x_in, [0, 0, 0, h], [1, 1, rows, 2 * h]))
            acts = ttnn.multiply(gate_t, gate_s)
            skip = self.skip_layers[i](acts, batch_size, length)
            output = skip if output is None else ttnn.add(output, skip)
            if i < self.n_layers - 1:
                x = ttnn.multiply(ttnn.add(x, self.res_layers[i](acts, batch_size, length)), mask)
        return ttnn.multiply(output, mask)
