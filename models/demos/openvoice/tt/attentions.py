# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""TTNN transformer encoder of MeloTTS (reference `attentions.py`): relative-position
multi-head self-attention, the convolutional FFN and the speaker-conditioned post-norm `Encoder`.

Activations are time-major ``[1, 1, B*T, H]`` TILE in DRAM like every `tt/` module; the mask
is ``[1, 1, B*T, 1]``. Only the attention core leaves that layout:

* **Heads, per item.** q/k/v are ONE fused 1x1 conv (``ttnn.linear`` ``H -> 3H``, with the
  ``1/sqrt(d)`` of the scores folded into W_q and b_q at load), viewed ``[B, T, 3*heads, d]``
  and permuted to ``[B, 3*heads, T, d]``; q, k, v are slices of it. Each item attends only to
  its own T rows, so the scores are ``[B, heads, T, T]``: cost B*T^2, not the (B*T)^2 of a
  block-diagonal mask over the flattened rows, and no other item is in the matrix at all.
  ``ttnn.reshape`` re-tiles when T is not a multiple of 32 (tests: T = 3, 11, 19, 25, 27, 37,
  46). T is not padded to 32 by us: the tile padding beyond T is the ops' business (the
  softmax kernel masks padded tile columns, ``MASK_PADDED_DATA``); the mock does not model
  tile padding, so this is one thing a card run must confirm. Padding T to a multiple of 32
  here would also be exact (the extra keys masked like padded frames) but costs up to 31 rows
  and columns of every [T, T] tensor.
* **Mask.** Upstream fills masked scores with -1e4 (``masked_fill``, not -inf) before the
  softmax. :func:`attention_mask` builds the ``[B, 1, T, T]`` pair mask once per encoder
  call (outer product of the row mask with itself, a broadcast multiply); every layer then
  runs ``ttnn.where(keep, scores, -1e4)``, broadcast over heads: the same values as upstream,
  so a padded query row gets the same uniform softmax and a valid row gives exactly zero
  weight (exp(-1e4 - max) underflows) to the item's padded keys.
* **Relative positions without a loop.** Window w = 4, heads share one table per side
  (``emb_rel_k``, ``emb_rel_v``: [9, d]).
  Key side: ``r = q @ E_k^T`` is only ``[.., T, 9]`` (r[i, o] = q_i . E_k[o], offset o - 4);
  :func:`band_to_absolute` moves it to the ``[.., T, T]`` band (entry (i, j) = r[i, j - i + 4]
  for |j - i| <= 4, zero elsewhere) with upstream's skew trick done on the narrow matrix:
  pad r to ``[T+8, T+9]`` (8 zero rows, T zero columns), re-view it row-major as
  ``[T+9, T+8]`` (same element count), keep rows ``:T`` and columns ``4:4+T``. Row a of the
  re-view starts at flat element a*(T+8) = a*(T+9) - a, i.e. row a of r shifted right by a.
  Value side: :func:`absolute_to_band` is the inverse: pad p ``[T, T]`` by 4 zero columns
  each side and 9 zero rows to ``[T+9, T+8]``, re-view as ``[T+8, T+9]``, keep ``[:T, :9]``:
  entry (i, o) = p[i, i + o - 4]; then ``band @ E_v`` ([.., T, 9] @ [9, d]). This one runs in
  ROW_MAJOR (ttnn 0.81.1's tile pad refuses front padding): two layout conversions of the
  [T, T] probabilities. Upstream's version (``_relative_to_absolute``) works on [T, 2T-1]
  matrices and flattens to 1-D; the band one works on [T, 9] and the extra zero rows (8 / 9)
  make the re-view a 2-D reshape of equal size (a [1, N] tile tensor would be padded to 32
  rows). Checked in float64 on the host against the reference (`test_relative_skew_is_exact`,
  T from 1 to 40, T < w + 1 included: offsets outside the item land outside the kept columns)
  and on device (`test_attention`). Cost: every step is O(B * heads * T^2) like the scores.
* **FFN** kernel k ``(k-1)//2`` left / ``k//2`` right padding (k = 3 text encoder, 5 flow) is
  `TtConv1d` (``ttnn.conv1d`` zero-pads every item separately), inputs masked as upstream.
* **Speaker**: ``spk_emb_linear`` (nn.Linear gin -> H) is a 1x1 `TtConv1d` with its bias;
  `SpeakerRows.project` computes ``S @ (g @ W + b)`` = ``g_b @ W + b`` on every row (S has one
  1 per row: exact), added before layer `cond_layer_idx`, then masked, as upstream.

Precision: `dtype` (weights and activations) and `compute` are the caller's: float32 for the
text encoder (its output decides the integer durations), bfloat16 for the flow; figures in
`text_encoder.py` and `transformer_coupling.py`. Attention alone, fp32, mock: max error
5.7e-7 of the output's scale (T = 3 and 37, B = 2); 6 release-shape layers: 4.1e-7.
Ops per attention call: 25 (1 fused qkv linear, 4 matmuls, softmax, where, the two skews,
heads reshaped/permuted in and out, conv_o). The first call at a new T also uploads
reshape helper tensors (`Tensor::to_device` inside `ttnn.reshape`, as in the converter);
warm calls make no host transfer (tested on the text encoder and the flow).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import ttnn

from models.demos.openvoice.reference.attentions import FFN, MASK_VALUE, Encoder, MultiHeadAttention
from models.demos.openvoice.tt.commons import TtChannelLayerNorm, matmul_float32, softmax_float32, upload
from models.demos.openvoice.tt.conv import TtConv1d
from models.demos.openvoice.tt.wavenet import SpeakerRows


@dataclass(frozen=True)
class AttentionMask:
    """Per-item pair mask ``keep`` [B, 1, T, T] (1 where query and key are both valid frames)."""

    keep: ttnn.Tensor


def attention_mask(mask: ttnn.Tensor, batch_size: int, length: int) -> AttentionMask:
    """Row mask [1, 1, B*T, 1] -> pair mask [B, 1, T, T] = mask_i * mask_j (built once per encoder call)."""
    queries = ttnn.reshape(mask, (batch_size, 1, length, 1))
    keys = ttnn.reshape(mask, (batch_size, 1, 1, length))
    return AttentionMask(ttnn.multiply(queries, keys))


def band_to_absolute(band: ttnn.Tensor, length: int, window: int) -> ttnn.Tensor:
    """[.., T, 2w+1] indexed (i, j - i + w) -> [.., T, T] indexed (i, j), zero outside the band (skew)."""
    width = 2 * window + 1
    lead = list(band.shape)[:-2]
    # [T, 2w+1] -> [T + 2w, T + 2w + 1]: row-major re-view as [T + 2w + 1, T + 2w] shifts row a right by a.
    padded = ttnn.pad(band, [(0, 0)] * len(lead) + [(0, 2 * window), (0, length)], 0.0)
    skewed = ttnn.reshape(padded, (*lead, length + width, length + 2 * window))
    return ttnn.slice(skewed, [0] * len(lead) + [0, window], [*lead, length, window + length])


def absolute_to_band(p: ttnn.Tensor, length: int, window: int) -> ttnn.Tensor:
    """[.., T, T] indexed (i, j) -> [.., T, 2w+1] indexed (i, j - i + w) (inverse skew).

    In ROW_MAJOR: ttnn 0.81.1's tile pad has no front padding, and the w leading zero columns
    are what makes column o of row i hold p[i, i + o - w]."""
    width = 2 * window + 1
    lead = list(p.shape)[:-2]
    # [T, T] -> [T + 2w + 1, T + 2w] (w zero columns each side); re-view as [T + 2w, T + 2w + 1]
    # shifts row a left by a.
    rows = ttnn.to_layout(p, ttnn.ROW_MAJOR_LAYOUT)
    padded = ttnn.pad(rows, [(0, 0)] * len(lead) + [(0, width), (window, window)], 0.0)
    skewed = ttnn.reshape(padded, (*lead, length + 2 * window, length + width))
    band = ttnn.slice(skewed, [0] * len(lead) + [0, 0], [*lead, length, width])
    return ttnn.to_layout(band, ttnn.TILE_LAYOUT)


class TtMultiHeadAttention:
    """`MultiHeadAttention` (relative positions, shared tables) on time-major rows, per item."""

    def __init__(
        self,
        device: ttnn.Device,
        ref: MultiHeadAttention,
        *,
        dtype: ttnn.DataType,
        compute: ttnn.DeviceComputeKernelConfig,
        weights_dtype: ttnn.DataType | None = None,
    ) -> None:
        if ref.window_size is None:
            raise NotImplementedError("only relative-position attention (every MeloTTS encoder) is supported")
        if ref.emb_rel_k.shape[0] != 1:
            raise NotImplementedError("only heads_share=True (every MeloTTS encoder) is supported")
        self.heads, self.head_dim, self.window = ref.n_heads, ref.k_channels, ref.window_size
        self.channels = self.heads * self.head_dim
        self.compute, self.dtype = compute, dtype
        scale = self.head_dim**-0.5
        weight = torch.cat([ref.conv_q.weight * scale, ref.conv_k.weight, ref.conv_v.weight]).detach()
        bias = torch.cat([ref.conv_q.bias * scale, ref.conv_k.bias, ref.conv_v.bias]).detach()
        conv = dict(compute=compute, dtype=dtype, weights_dtype=weights_dtype or dtype)
        self.qkv = TtConv1d(device, weight, bias, **conv)
        self.conv_o = TtConv1d(device, ref.conv_o.weight.detach(), ref.conv_o.bias.detach(), **conv)
        self.rel_k_t = upload(device, ref.emb_rel_k.detach()[0].t(), dtype)  # [d, 2w+1]
        self.rel_v = upload(device, ref.emb_rel_v.detach()[0], dtype)  # [2w+1, d]

    def _matmul(self, a: ttnn.Tensor, b: ttnn.Tensor, **kwargs) -> ttnn.Tensor:
        if self.dtype == ttnn.float32:  # float32 stays float32 (commons.matmul_float32)
            return matmul_float32(a, b, **kwargs)
        return ttnn.matmul(a, b, compute_kernel_config=self.compute, dtype=self.dtype, **kwargs)

    def _softmax(self, scores: ttnn.Tensor) -> ttnn.Tensor:
        if self.dtype == ttnn.float32:
            return softmax_float32(scores)
        return ttnn.softmax(scores, dim=-1, numeric_stable=True, compute_kernel_config=self.compute)

    def __call__(self, x: ttnn.Tensor, attn_mask: AttentionMask, batch_size: int, length: int) -> ttnn.Tensor:
        """x [1, 1, B*T, H] -> [1, 1, B*T, H_out]; attention within each item's valid frames."""
        b, t, h, d = batch_size, length, self.heads, self.head_dim
        qkv = ttnn.reshape(self.qkv(x, b, t), (b, t, 3 * h, d))
        qkv = ttnn.permute(qkv, (0, 2, 1, 3))  # [B, 3h, T, d]
        q = ttnn.slice(qkv, [0, 0, 0, 0], [b, h, t, d])  # already / sqrt(d)
        k = ttnn.slice(qkv, [0, h, 0, 0], [b, 2 * h, t, d])
        v = ttnn.slice(qkv, [0, 2 * h, 0, 0], [b, 3 * h, t, d])

        scores = self._matmul(q, k, transpose_b=True)  # [B, h, T, T]
        rel_logits = self._matmul(q, self.rel_k_t)  # [B, h, T, 2w+1]
        scores = ttnn.add(scores, band_to_absolute(rel_logits, t, self.window))
        scores = ttnn.where(attn_mask.keep, scores, MASK_VALUE)
        p = self._softmax(scores)

        out = self._matmul(p, v)  # [B, h, T, d]
        out = ttnn.add(out, self._matmul(absolute_to_band(p, t, self.window), self.rel_v))
        out = ttnn.reshape(ttnn.permute(out, (0, 2, 1, 3)), (1, 1, b * t, self.channels))  # channel = head*d + j
        return self.conv_o(out, b, t)


class TtFFN:
    """`FFN`: masked conv(k) -> ReLU -> masked conv(k) -> mask, 'same' padding ((k-1)//2 left, k//2 right)."""

    def __init__(
        self,
        device: ttnn.Device,
        ref: FFN,
        *,
        dtype: ttnn.DataType,
        compute: ttnn.DeviceComputeKernelConfig,
        weights_dtype: ttnn.DataType | None = None,
    ) -> None:
        k = ref.kernel_size
        conv = dict(padding=((k - 1) // 2, k // 2), compute=compute, dtype=dtype, weights_dtype=weights_dtype or dtype)
        self.conv_1 = TtConv1d(device, ref.conv_1.weight.detach(), ref.conv_1.bias.detach(), **conv)
        self.conv_2 = TtConv1d(device, ref.conv_2.weight.detach(), ref.conv_2.bias.detach(), **conv)

    def __call__(self, x: ttnn.Tensor, mask: ttnn.Tensor, batch_size: int, length: int) -> ttnn.Tensor:
        x = ttnn.relu(self.conv_1(ttnn.multiply(x, mask), batch_size, length))
        x = self.conv_2(ttnn.multiply(x, mask), batch_size, length)
        return ttnn.multiply(x, mask)


class TtEncoder:
    """`Encoder`: post-norm (attention, FFN) layers; speaker added before layer `cond_layer_idx`."""

    def __init__(
        self,
        device: ttnn.Device,
        ref: Encoder,
        *,
        dtype: ttnn.DataType,
        compute: ttnn.DeviceComputeKernelConfig,
        weights_dtype: ttnn.DataType | None = None,
    ) -> None:
        """`dtype`: activations (and weights unless `weights_dtype`: the projection convs' storage)."""
        self.n_layers = ref.n_layers
        self.cond_layer_idx = ref.cond_layer_idx
        self.spk_emb_linear = None
        if hasattr(ref, "spk_emb_linear"):  # nn.Linear [H, gin] -> a 1x1 conv [H, gin, 1], bias kept
            linear = ref.spk_emb_linear
            conv = dict(compute=compute, dtype=dtype, weights_dtype=weights_dtype or dtype)
            self.spk_emb_linear = TtConv1d(device, linear.weight.detach()[:, :, None], linear.bias.detach(), **conv)
        parts = dict(dtype=dtype, compute=compute)
        convs = dict(parts, weights_dtype=weights_dtype)
        self.attn_layers = [TtMultiHeadAttention(device, layer, **convs) for layer in ref.attn_layers]
        self.norm_layers_1 = [TtChannelLayerNorm(device, norm, **parts) for norm in ref.norm_layers_1]
        self.ffn_layers = [TtFFN(device, layer, **convs) for layer in ref.ffn_layers]
        self.norm_layers_2 = [TtChannelLayerNorm(device, norm, **parts) for norm in ref.norm_layers_2]

    def __call__(
        self, x: ttnn.Tensor, mask: ttnn.Tensor, batch_size: int, length: int, speaker: SpeakerRows | None = None
    ) -> ttnn.Tensor:
        """x [1, 1, B*T, H], mask [1, 1, B*T, 1], speaker rows or None -> [1, 1, B*T, H] masked."""
        attn_mask = attention_mask(mask, batch_size, length)
        x = ttnn.multiply(x, mask)
        for i in range(self.n_layers):
            if i == self.cond_layer_idx and speaker is not None and self.spk_emb_linear is not None:
                x = ttnn.multiply(ttnn.add(x, speaker.project(self.spk_emb_linear)), mask)
            x = self.norm_layers_1[i](ttnn.add(x, self.attn_layers[i](x, attn_mask, batch_size, length)))
            x = self.norm_layers_2[i](ttnn.add(x, self.ffn_layers[i](x, mask, batch_size, length)))
        return ttnn.multiply(x, mask)
