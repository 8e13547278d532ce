# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""TTNN stochastic duration predictor, inference (reverse) path (reference
`stochastic_duration_predictor.StochasticDurationPredictor`; upstream `melo/models.py`).

Conditioning: ``h = proj(DDSConv(pre(x) + cond(g))) * mask`` ``[1, 1, B*T, F]``; then the flows
run in reverse from the uploaded noise ``z = eps * noise_scale_w`` ``[1, 1, B*T, 2]``:
Flip, ConvFlow3, Flip, ConvFlow2, Flip, ConvFlow1, Flip, ElementwiseAffine (upstream skips
ConvFlow0), and the output is channel 0: log-durations ``[1, 1, B*T, 1]``.

Layouts and folds (all at load):

* **2-channel state as two columns.** z is split once into two ``[1, 1, B*T, 1]`` columns
  (two ``ttnn.slice``); every flow then reads and writes whole columns, so no concat, flip
  or channel slice runs afterwards. The Flips are folded at load: walking the flows in
  their reverse order with the current logical -> column permutation gives each ConvFlow
  the column it reads (x0) and the one it overwrites (x1) -- with four Flips: ConvFlow3
  reads column 1 and writes column 0, ConvFlow2 reads 0 writes 1, ConvFlow1 reads 1 writes
  0 -- and the final ElementwiseAffine and output use logical channel 0 = column 0. The
  affine runs on that column only (channel 1 is never returned).
* **DDSConv** (:class:`TtDDSConv`): the dilated depthwise convs (k3, dilation 1/3/9,
  groups = channels) run as ``ttnn.conv1d`` with ``groups=channels`` (``TtConv1d(groups=)``):
  ttnn 0.81.1 accepts grouped conv1d (validated by the library on the mock, golden
  ``F.conv1d(groups=)``), so the per-item zero padding and the DRAM weight cache are the same
  as every other conv. Rejected alternative: K shifted taps, each a per-channel scale of a
  shifted view: a shifted view of ``[B*T, C]`` rows crosses batch items and would need a
  mask per tap, 3 x (slice + pad + multiply + mask) ops instead of one conv.
* **ConvFlow projection** (F -> 29 = 10 widths, 10 heights, 9 inner derivatives) split into
  three 1x1 convs: widths and heights ``[B*T, 10]`` with upstream's ``/ sqrt(filter_channels)``
  folded into weight and bias, and the derivatives ``[B*T, 11]`` padded on both ends with the
  linear-tail constant by the weights themselves (`transforms.padded_derivative_projection`),
  so the spline (`tt/transforms.py`) needs no slice or concat. Upstream masks the projection
  (``proj(h) * x_mask``); that only changes the spline parameters of padded rows, whose
  output the flow masks anyway (finite parameters -> finite outputs), so the port skips
  those three multiplies.
* Speaker conditioning: ``wavenet.SpeakerRows`` (``S @ (g @ W + b)``), as the other modules.
* Precision: float32 activations and weights, fp32 accumulation, like
  `tt/duration_predictor.py` (integer durations must match the reference).
"""

from __future__ import annotations

import math

import torch
import ttnn

from models.demos.openvoice.reference.stochastic_duration_predictor import (
    ConvFlow,
    DDSConv,
    ElementwiseAffine,
    Flip,
    StochasticDurationPredictor,
)
from models.demos.openvoice.tt.commons import TtChannelLayerNorm
from models.demos.openvoice.tt.conv import TtConv1d
from models.demos.openvoice.tt.duration_predictor import DTYPE, as_float32, float_conv
from models.demos.openvoice.tt.transforms import (
    SplineConstants,
    padded_derivative_projection,
    piecewise_rational_quadratic_transform,
)
from models.demos.openvoice.tt.wavenet import SpeakerRows


def gelu(x: ttnn.Tensor) -> ttnn.Tensor:
    """Exact (erf) GELU, as upstream's F.gelu (ttnn's default variant, named so it stays that way)."""
    return ttnn.gelu(x, variant=ttnn.GeluVariant.Accurate)


class TtDDSConv:
    """Dilated depth-separable conv stack: per layer depthwise conv (masked input) -> LN -> GELU
    -> 1x1 -> LN -> GELU, residual; output masked."""

    def __init__(self, device: ttnn.Device, ref: DDSConv, *, compute: ttnn.DeviceComputeKernelConfig) -> None:
        self.layers = [
            (
                float_conv(device, ref.convs_sep[i], compute),
                TtChannelLayerNorm(device, ref.norms_1[i], dtype=DTYPE, compute=compute),
                float_conv(device, ref.convs_1x1[i], compute),
                TtChannelLayerNorm(device, ref.norms_2[i], dtype=DTYPE, compute=compute),
            )
            for i in range(ref.n_layers)
        ]

    def __call__(
        self, x: ttnn.Tensor, mask: ttnn.Tensor, batch_size: int, length: int, g: ttnn.Tensor | None = None
    ) -> ttnn.Tensor:
        """x [1,1,B*T,C] (+ g, same shape) -> [1,1,B*T,C] masked."""
        if g is not None:
            x = ttnn.add(x, g)
        for conv_sep, norm_1, conv_1x1, norm_2 in self.layers:
            y = gelu(norm_1(conv_sep(ttnn.multiply(x, mask), batch_size, length)))
            y = gelu(norm_2(conv_1x1(y, batch_size, length)))
            x = ttnn.add(x, y)
        return ttnn.multiply(x, mask)


class TtConvFlow:
    """One ConvFlow, reverse: x1 <- inverse spline(x1; params from DDSConv(pre(x0)) + g), masked."""

    def __init__(
        self,
        device: ttnn.Device,
        ref: ConvFlow,
        spline: SplineConstants,
        *,
        compute: ttnn.DeviceComputeKernelConfig,
    ) -> None:
        if ref.half_channels != 1:
            raise NotImplementedError("the column layout holds 2-channel ConvFlows (every SDP flow)")
        if (ref.num_bins, ref.tail_bound) != (spline.num_bins, spline.tail_bound):
            raise ValueError("ConvFlow and spline constants disagree on bins / tail bound")
        self.pre = float_conv(device, ref.pre, compute)
        self.convs = TtDDSConv(device, ref.convs, compute=compute)
        self.spline = spline
        k = ref.num_bins
        weight, bias = ref.proj.weight.detach(), ref.proj.bias.detach()
        scale = math.sqrt(ref.filter_channels)
        conv = lambda w, b: TtConv1d(device, w, b, compute=compute, dtype=DTYPE, weights_dtype=DTYPE)  # noqa: E731
        self.widths = conv(weight[:k] / scale, bias[:k] / scale)
        self.heights = conv(weight[k : 2 * k] / scale, bias[k : 2 * k] / scale)
        self.derivatives = conv(*padded_derivative_projection(weight[2 * k :], bias[2 * k :]))

    def __call__(
        self, x0: ttnn.Tensor, x1: ttnn.Tensor, mask: ttnn.Tensor, batch_size: int, length: int, g: ttnn.Tensor
    ) -> ttnn.Tensor:
        """x0, x1 [1,1,B*T,1], g [1,1,B*T,F] -> the new x1 [1,1,B*T,1], masked."""
        h = self.convs(self.pre(x0, batch_size, length), mask, batch_size, length, g=g)
        x1 = piecewise_rational_quadratic_transform(
            x1,
            self.widths(h, batch_size, length),
            self.heights(h, batch_size, length),
            self.derivatives(h, batch_size, length),
            self.spline,
            inverse=True,
        )
        return ttnn.multiply(x1, mask)


FlowPlan = list[tuple[ConvFlow, int, int]]


def reverse_flow_plan(ref: StochasticDurationPredictor) -> tuple[FlowPlan, ElementwiseAffine, int]:
    """Fold the Flips: (ConvFlow, column read as x0, column overwritten as x1) in run order,
    the final affine and the column holding logical channel 0 at the end."""
    flows = list(reversed(ref.flows))
    flows = flows[:-2] + [flows[-1]]  # upstream skips the first ConvFlow ("a useless vflow")
    order = [0, 1]  # logical channel -> column
    plan: FlowPlan = []
    affine = None
    for position, flow in enumerate(flows):
        if isinstance(flow, Flip):
            order.reverse()
        elif isinstance(flow, ConvFlow):
            plan.append((flow, order[0], order[1]))
        elif isinstance(flow, ElementwiseAffine) and position == len(flows) - 1:
            affine = flow
        else:
            raise NotImplementedError(f"unexpected SDP flow {type(flow).__name__} at position {position}")
    if affine is None:
        raise NotImplementedError("the SDP's reverse flows must end with its ElementwiseAffine")
    return plan, affine, order[0]


class TtStochasticDurationPredictor:
    def __init__(
        self, device: ttnn.Device, ref: StochasticDurationPredictor, *, compute: ttnn.DeviceComputeKernelConfig
    ) -> None:
        self.pre = float_conv(device, ref.pre, compute)
        self.cond = float_conv(device, ref.cond, compute) if hasattr(ref, "cond") else None
        self.convs = TtDDSConv(device, ref.convs, compute=compute)
        self.proj = float_conv(device, ref.proj, compute)
        plan, affine, self.output_column = reverse_flow_plan(ref)
        first = plan[0][0]
        spline = SplineConstants.create(device, first.num_bins, first.tail_bound, compute=compute)
        self.flows = [(TtConvFlow(device, flow, spline, compute=compute), read, write) for flow, read, write in plan]
        # Reverse affine of logical channel 0: (z - m) * exp(-logs), scalars in float32 as upstream.
        self.affine_m = float(affine.m.detach()[0, 0])
        self.affine_scale = float(torch.exp(-affine.logs.detach()[0, 0]))

    def __call__(
        self,
        x: ttnn.Tensor,
        mask: ttnn.Tensor,
        batch_size: int,
        length: int,
        speaker: SpeakerRows | None,
        scaled_noise: ttnn.Tensor,
    ) -> ttnn.Tensor:
        """x [1,1,B*T,C], mask [1,1,B*T,1], speaker (S, g), scaled_noise = eps * noise_scale_w
        [1,1,B*T,2] -> logw [1,1,B*T,1] float32, 0 where masked."""
        h = self.pre(as_float32(x), batch_size, length)
        if self.cond is not None:
            if speaker is None:
                raise ValueError("this duration predictor is speaker-conditioned: pass the speaker rows")
            h = ttnn.add(h, speaker.project(self.cond))
        h = self.convs(h, mask, batch_size, length)
        h = ttnn.multiply(self.proj(h, batch_size, length), mask)

        rows = batch_size * length
        z = as_float32(scaled_noise)
        columns = [ttnn.slice(z, [0, 0, 0, c], [1, 1, rows, c + 1]) for c in range(2)]
        for flow, read, write in self.flows:
            columns[write] = flow(columns[read], columns[write], mask, batch_size, length, h)
        z0 = ttnn.multiply(ttnn.subtract(columns[self.output_column], self.affine_m), self.affine_scale)
        return ttnn.multiply(z0, mask)
