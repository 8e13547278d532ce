# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Monotone rational-quadratic spline (Durkan et al. 2019, "Neural Spline Flows"), as in
upstream `melo/transforms.py`, used by the stochastic duration predictor's ConvFlow.

Upstream applies the spline only to the elements inside [-tail_bound, tail_bound] through
boolean indexing; here every element goes through the spline with its input clamped into
the interval and `torch.where` keeps the identity outside. The arithmetic on the inside
elements is the same, and the shapes stay static (what a device port needs).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

DEFAULT_MIN_BIN_WIDTH = 1e-3
DEFAULT_MIN_BIN_HEIGHT = 1e-3
DEFAULT_MIN_DERIVATIVE = 1e-3
_SEARCH_EPS = 1e-6  # upstream widens the last knot so an input equal to it falls in the last bin


def piecewise_rational_quadratic_transform(
    inputs: torch.Tensor,
    unnormalized_widths: torch.Tensor,
    unnormalized_heights: torch.Tensor,
    unnormalized_derivatives: torch.Tensor,
    inverse: bool = False,
    tails: str | None = None,
    tail_bound: float = 1.0,
    min_bin_width: float = DEFAULT_MIN_BIN_WIDTH,
    min_bin_height: float = DEFAULT_MIN_BIN_HEIGHT,
    min_derivative: float = DEFAULT_MIN_DERIVATIVE,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spline (or its inverse) elementwise; returns (outputs, log|d outputs / d inputs|).

    widths / heights: [..., K]; derivatives: [..., K + 1] without tails, [..., K - 1] with
    tails="linear" (the two boundary derivatives are then fixed to 1).
    """
    kwargs = dict(min_bin_width=min_bin_width, min_bin_height=min_bin_height, min_derivative=min_derivative)
    if tails is None:
        return rational_quadratic_spline(
            inputs, unnormalized_widths, unnormalized_heights, unnormalized_derivatives, inverse, **kwargs
        )
    if tails != "linear":
        raise ValueError(f"{tails} tails are not implemented")
    # softplus(constant) + min_derivative == 1: the spline meets the identity tails with slope 1.
    constant = math.log(math.exp(1 - min_derivative) - 1)
    derivatives = F.pad(unnormalized_derivatives, (1, 1), value=constant)
    inside = (inputs >= -tail_bound) & (inputs <= tail_bound)
    spline_out, spline_logdet = rational_quadratic_spline(
        inputs.clamp(-tail_bound, tail_bound),
        unnormalized_widths,
        unnormalized_heights,
        derivatives,
        inverse,
        left=-tail_bound,
        right=tail_bound,
        bottom=-tail_bound,
        top=tail_bound,
        **kwargs,
    )
    outputs = torch.where(inside, spline_out, inputs)
    logabsdet = torch.where(inside, spline_logdet, torch.zeros_like(spline_logdet))
    return outputs, logabsdet


def _knots(unnormalized: torch.Tensor, low: float, high: float, min_size: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax bin sizes (each >= min_size) -> (knot positions [..., K+1] from low to high, bin sizes [..., K])."""
    num_bins = unnormalized.shape[-1]
    if min_size * num_bins > 1.0:
        raise ValueError("minimal bin size too large for the number of bins")
    sizes = min_size + (1 - min_size * num_bins) * F.softmax(unnormalized, dim=-1)
    inner = ((high - low) * torch.cumsum(sizes, dim=-1) + low)[..., :-1]
    # End knots pinned exactly to the bounds (upstream overwrites them after the cumsum).
    cum = torch.cat([torch.full_like(inner[..., :1], low), inner, torch.full_like(inner[..., :1], high)], dim=-1)
    return cum, cum[..., 1:] - cum[..., :-1]


def _bin_index(knots: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    widened = torch.cat([knots[..., :-1], knots[..., -1:] + _SEARCH_EPS], dim=-1)
    return (torch.sum(inputs[..., None] >= widened, dim=-1) - 1)[..., None]


def rational_quadratic_spline(
    inputs: torch.Tensor,
    unnormalized_widths: torch.Tensor,
    unnormalized_heights: torch.Tensor,
    unnormalized_derivatives: torch.Tensor,
    inverse: bool = False,
    left: float = 0.0,
    right: float = 1.0,
    bottom: float = 0.0,
    top: float = 1.0,
    min_bin_width: float = DEFAULT_MIN_BIN_WIDTH,
    min_bin_height: float = DEFAULT_MIN_BIN_HEIGHT,
    min_derivative: float = DEFAULT_MIN_DERIVATIVE,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Monotone spline from [left, right] onto [bottom, top] (or back, inverse=True)."""
    if inputs.numel() and (torch.min(inputs) < (bottom if inverse else left) or torch.max(inputs) > (top if inverse else right)):
        raise ValueError("input to a rational-quadratic spline is not within its domain")
    cumwidths, widths = _knots(unnormalized_widths, left, right, min_bin_width)
    cumheights, heights = _knots(unnormalized_heights, bottom, top, min_bin_height)
    derivatives = min_derivative + F.softplus(unnormalized_derivatives)

    bin_idx = _bin_index(cumheights if inverse else cumwidths, inputs)

    def pick(t: torch.Tensor) -> torch.Tensor:
        return t.gather(-1, bin_idx)[..., 0]

    x_k, w_k = pick(cumwidths), pick(widths)
    y_k, h_k = pick(cumheights), pick(heights)
    delta = pick(heights / widths)
    d_k, d_k1 = pick(derivatives), pick(derivatives[..., 1:])
    slope_sum = d_k + d_k1 - 2 * delta

    if inverse:
        # Solve a*theta^2 + b*theta + c = 0 for the bin-relative position theta in [0, 1].
        dy = inputs - y_k
        a = dy * slope_sum + h_k * (delta - d_k)
        b = h_k * d_k - dy * slope_sum
        c = -delta * dy
        discriminant = b.pow(2) - 4 * a * c
        if not bool((discriminant >= 0).all()):
            raise ValueError("negative discriminant in the inverse rational-quadratic spline")
        theta = (2 * c) / (-b - torch.sqrt(discriminant))  # the numerically stable root
        outputs = theta * w_k + x_k
    else:
        theta = (inputs - x_k) / w_k
    theta_one_minus_theta = theta * (1 - theta)
    denominator = delta + slope_sum * theta_one_minus_theta
    if not inverse:
        outputs = y_k + h_k * (delta * theta.pow(2) + d_k * theta_one_minus_theta) / denominator
    derivative_numerator = delta.pow(2) * (d_k1 * theta.pow(2) + 2 * delta * theta_one_minus_theta + d_k * (1 - theta).pow(2))
    logabsdet = torch.log(derivative_numerator) - 2 * torch.log(denominator)
    return outputs, (-logabsdet if inverse else logabsdet)
