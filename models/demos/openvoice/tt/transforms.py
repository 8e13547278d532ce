# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Monotone rational-quadratic spline with linear tails, INVERSE direction, on TTNN
(reference `transforms.py`; upstream `melo/transforms.py`), vectorised over rows.

Layout: every row is one (batch item, frame) of the time-major activations; the input is a
column ``[1, 1, R, 1]`` and the spline parameters of row r are the columns of ``[1, 1, R, n]``
tensors (K = num_bins = 10 in MeloTTS). Everything is float32: the SDP's output goes through
exp and ceil into integer durations.

Steps (same arithmetic as the reference, no data-dependent shapes, no host round trip):

* bin sizes: ``min + (1 - min*K) * softmax(logits)`` (the ConvFlow folds its 1/sqrt(filter)
  scale into the projection weights, so the logits arrive scaled). The softmax is written out
  on the vector engine in float32 (`commons.softmax_float32`: max, subtract, exp, sum, times the
  reciprocal, as torch's softmax):
  ``ttnn.softmax`` sums on the matrix engine, whose operands are TF32 (10 mantissa bits), and
  under the mock's Wormhole numerics that moved the knots by ~1e-3 of the bound, which on a
  steep bin moved the inverse spline's output by 1.2 (test_spline_inverse_vs_float64);
* knots as upstream: ``2B * cumsum(sizes) - B`` (``ttnn.cumsum``), the first K-1 columns
  kept (``inner`` = knots 1..K-1) and the end knots pinned exactly to -B / +B as upstream
  overwrites them: the bins' right knots are ``inner`` padded on the right with B
  (``ttnn.pad``), their left knots a -B column concatenated before ``inner`` (``ttnn.concat``;
  ttnn 0.81.1 cannot front-pad a TILE tensor). Data movement only, so each bin's right knot
  is bit-identical to the next bin's left knot and its height is ``knot_{k+1} - knot_k`` as
  upstream computes it (knots built by a matmul instead differ from upstream's cumsum by an
  ulp, which on a steep bin moved outputs by 0.15 where the float32 reference moved 0.004);
* derivatives: ``min_derivative + softplus`` of upstream's padded logits ``[c, u_0..u_{K-2}, c]``
  ``[R, K+1]`` (softplus(c) + min_derivative = 1); the ConvFlow's projection produces the
  padded logits itself (zero weights and bias c in the two end columns: exactly c, see
  :func:`padded_derivative_projection`); columns 0..K-1 / 1..K are each bin's left / right
  derivative (two slices);
* bin search (inverse: over the height knots): ``G = (y >= left knots)`` ``[R, K]``; the one-hot
  bin is ``G[:, k] - G[:, k+1]``, one matmul with a constant 0/+-1 matrix (exact for 0/1
  values, on a card too). Upstream counts ``y >= knot`` over all K+1 knots with the last
  widened by 1e-6; for y clamped into [-B, B] that last comparison is always false and the
  first always true, so both give the same bin;
* gathers: ``sum(onehot * table, dim=-1)`` per table (one nonzero term: exact on the mock);
* the quadratic root in upstream's numerically stable form ``theta = 2c / (-b - sqrt(b^2 - 4ac))``,
  written with ``p = delta * dy`` (c = -p) as ``theta = 2p / (b + sqrt(b^2 + 4ap))``: the same
  float32 value (only exact sign changes), two ops fewer. The discriminant is clamped at 0:
  when y sits on the right knot of a steep bin (height ~10, width ~0.01) its exact value
  ``(h * d_{k+1})^2 ~ 1e-4`` is the difference of two terms of ~4e8 and float32 can round it
  negative (measured: -32); upstream then fails (its assert; the reference raises), the clamp
  gives ``theta = 2p / b = 1``, the right answer;
* linear tails: the spline runs on the input clamped into [-B, B] and ``ttnn.where(|x| <= B)``
  keeps the identity outside, as the reference does.

Not computed: the log-determinant (inference never uses it) and the forward direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import ttnn

from models.demos.openvoice.reference.transforms import (
    DEFAULT_MIN_BIN_HEIGHT,
    DEFAULT_MIN_BIN_WIDTH,
    DEFAULT_MIN_DERIVATIVE,
)
from models.demos.openvoice.tt.commons import softmax_float32, upload


def tail_derivative_constant(min_derivative: float = DEFAULT_MIN_DERIVATIVE) -> float:
    """The logit c with softplus(c) + min_derivative == 1 (upstream's linear-tail padding value)."""
    return math.log(math.exp(1 - min_derivative) - 1)


def padded_derivative_projection(
    weight: torch.Tensor, bias: torch.Tensor, min_derivative: float = DEFAULT_MIN_DERIVATIVE
) -> tuple[torch.Tensor, torch.Tensor]:
    """A 1x1 projection ``weight [K-1, Ci, 1]``, ``bias [K-1]`` to the inner derivative logits ->
    ``[K+1, Ci, 1]`` / ``[K+1]`` whose output is upstream's padded ``[c, u_0..u_{K-2}, c]``.
    The padded columns have zero weights and bias c, so their output is exactly c."""
    constant = torch.full_like(bias[:1], tail_derivative_constant(min_derivative))
    zero = torch.zeros_like(weight[:1])
    return torch.cat([zero, weight, zero]), torch.cat([constant, bias, constant])


def bin_selector(num_bins: int) -> torch.Tensor:
    """[K, K] 0/+-1 matrix: for G = (y >= left knots) [R, K] (non-increasing 0/1 rows, G[:, 0] = 1),
    ``G @ selector`` is the one-hot bin, ``G[:, k] - G[:, k+1]`` (G[:, K] taken as 0)."""
    return torch.eye(num_bins, dtype=torch.float64) - torch.diag(torch.ones(num_bins - 1, dtype=torch.float64), -1)


@dataclass
class SplineConstants:
    """Constants of the inverse spline; the bin selector is uploaded once at load."""

    num_bins: int
    tail_bound: float
    min_bin_width: float
    min_bin_height: float
    min_derivative: float
    selector: ttnn.Tensor  # [K, K], see `bin_selector`
    compute: ttnn.DeviceComputeKernelConfig | None

    @classmethod
    def create(
        cls,
        device: ttnn.Device,
        num_bins: int,
        tail_bound: float,
        *,
        min_bin_width: float = DEFAULT_MIN_BIN_WIDTH,
        min_bin_height: float = DEFAULT_MIN_BIN_HEIGHT,
        min_derivative: float = DEFAULT_MIN_DERIVATIVE,
        compute: ttnn.DeviceComputeKernelConfig | None = None,
    ) -> "SplineConstants":
        for min_size in (min_bin_width, min_bin_height):
            if min_size * num_bins > 1.0:
                raise ValueError("minimal bin size too large for the number of bins")
        selector = upload(device, bin_selector(num_bins), ttnn.float32)
        return cls(num_bins, float(tail_bound), min_bin_width, min_bin_height, min_derivative, selector, compute)


def spline_knots(
    unnormalized: ttnn.Tensor, min_size: float, low_column: ttnn.Tensor, k: SplineConstants
) -> tuple[ttnn.Tensor, ttnn.Tensor]:
    """Logits [1,1,R,K] -> (left knots, right knots) [1,1,R,K] of every bin, ends pinned to -B / B.

    low_column: [1,1,R,1] filled with -B (shared by the widths and the heights)."""
    rows, bins, bound = int(unnormalized.shape[-2]), k.num_bins, k.tail_bound
    probabilities = softmax_float32(unnormalized)
    sizes = ttnn.add(ttnn.multiply(probabilities, 1 - min_size * bins), min_size)
    cumulative = ttnn.add(ttnn.multiply(ttnn.cumsum(sizes, dim=-1), 2 * bound), -bound)
    inner = ttnn.slice(cumulative, [0, 0, 0, 0], [1, 1, rows, bins - 1])  # knots 1 .. K-1
    right = ttnn.pad(inner, [(0, 0), (0, 0), (0, 0), (0, 1)], value=bound)  # knots 1 .. K
    left = ttnn.concat([low_column, inner], dim=-1)  # knots 0 .. K-1
    return left, right


def _pick(onehot: ttnn.Tensor, table: ttnn.Tensor) -> ttnn.Tensor:
    """Row-wise gather [1,1,R,K] -> [1,1,R,1]: the one nonzero term of onehot * table."""
    return ttnn.sum(ttnn.multiply(onehot, table), dim=-1, keepdim=True)


def rational_quadratic_spline(
    inputs: ttnn.Tensor,
    unnormalized_widths: ttnn.Tensor,
    unnormalized_heights: ttnn.Tensor,
    unnormalized_derivatives: ttnn.Tensor,
    constants: SplineConstants,
    inverse: bool = True,
) -> ttnn.Tensor:
    """Inverse spline of [-B, B] onto itself, per row; inputs [1,1,R,1] within [-B, B].

    widths / heights: logits [1,1,R,K]; derivatives: padded logits [1,1,R,K+1]."""
    if not inverse:
        raise NotImplementedError("only the inverse spline runs at inference")
    k = constants
    rows, bins = int(inputs.shape[-2]), k.num_bins
    low_column = ttnn.full_like(inputs, fill_value=-k.tail_bound)
    x_left, x_right = spline_knots(unnormalized_widths, k.min_bin_width, low_column, k)
    y_left, y_right = spline_knots(unnormalized_heights, k.min_bin_height, low_column, k)
    derivatives = ttnn.add(ttnn.softplus(unnormalized_derivatives), k.min_derivative)
    d_left = ttnn.slice(derivatives, [0, 0, 0, 0], [1, 1, rows, bins])
    d_right = ttnn.slice(derivatives, [0, 0, 0, 1], [1, 1, rows, bins + 1])

    # One-hot bin of every row over the height knots.
    above = ttnn.ge(inputs, y_left)
    onehot = ttnn.matmul(above, k.selector, compute_kernel_config=k.compute, dtype=ttnn.float32)

    x_k, y_k, d_k, d_k1 = (_pick(onehot, t) for t in (x_left, y_left, d_left, d_right))
    w_k = ttnn.subtract(_pick(onehot, x_right), x_k)
    h_k = ttnn.subtract(_pick(onehot, y_right), y_k)
    delta = ttnn.divide(h_k, w_k)
    slope_sum = ttnn.subtract(ttnn.add(d_k, d_k1), ttnn.multiply(delta, 2.0))

    # a*theta^2 + b*theta + c = 0 with c = -delta*dy; theta = 2c / (-b - sqrt(b^2 - 4ac)).
    dy = ttnn.subtract(inputs, y_k)
    dy_slope = ttnn.multiply(dy, slope_sum)
    a = ttnn.add(dy_slope, ttnn.multiply(h_k, ttnn.subtract(delta, d_k)))
    b = ttnn.subtract(ttnn.multiply(h_k, d_k), dy_slope)
    p = ttnn.multiply(delta, dy)  # = -c
    # >= 0 in exact arithmetic; in float32 it can cancel to a small negative (see module docstring).
    discriminant = ttnn.relu(ttnn.add(ttnn.square(b), ttnn.multiply(ttnn.multiply(a, 4.0), p)))
    theta = ttnn.divide(ttnn.multiply(p, 2.0), ttnn.add(b, ttnn.sqrt(discriminant)))
    return ttnn.add(ttnn.multiply(theta, w_k), x_k)


def piecewise_rational_quadratic_transform(
    inputs: ttnn.Tensor,
    unnormalized_widths: ttnn.Tensor,
    unnormalized_heights: ttnn.Tensor,
    unnormalized_derivatives: ttnn.Tensor,
    constants: SplineConstants,
    inverse: bool = True,
) -> ttnn.Tensor:
    """Inverse spline with linear tails (identity outside [-B, B]); inputs [1,1,R,1], any value.

    widths / heights: logits [1,1,R,K] (already divided by sqrt(filter_channels));
    derivatives: padded logits [1,1,R,K+1] (see `padded_derivative_projection`).
    Returns [1,1,R,1] float32."""
    bound = constants.tail_bound
    inside = ttnn.le(ttnn.abs(inputs), bound)
    spline = rational_quadratic_spline(
        ttnn.clamp(inputs, min=-bound, max=bound),
        unnormalized_widths,
        unnormalized_heights,
        unnormalized_derivatives,
        constants,
        inverse,
    )
    return ttnn.where(inside, spline, inputs)
