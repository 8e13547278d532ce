# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""TTNN deterministic duration predictor (reference `duration_predictor.DurationPredictor`).

``x + cond(g)`` -> [conv k3 (masked input) -> ReLU -> LayerNorm] x 2 -> 1x1 proj (masked
input) -> masked log-durations, on time-major ``[1, 1, B*T, C]`` rows.

* Speaker conditioning per batch item through :class:`wavenet.SpeakerRows`:
  ``S @ (g @ W + b)``: the cond conv (bias included) runs on the B embeddings and S copies
  each item's row to its frames (one 1 per row of S: an exact copy).
* k3 convs: ``TtConv1d`` (``ttnn.conv1d``, per-item zero padding from ``batch_size`` /
  ``input_length``, as upstream's per-item ``padding=1``); proj (filter -> 1): ``ttnn.linear``.
* Precision: float32 activations AND weights with fp32 accumulation
  (`conv.precise_compute_config`). The output goes through exp and ceil into integer frame
  counts (``w_ceil``), and the port must give the reference's integers; T_x is small (tens to
  hundreds of tokens), so float32 costs little. A bfloat16 input (e.g. a bf16 text encoder)
  is typecast to float32 first.
"""

from __future__ import annotations

import ttnn
from torch import nn

from models.demos.openvoice.reference.duration_predictor import DurationPredictor
from models.demos.openvoice.tt.commons import TtChannelLayerNorm, cast
from models.demos.openvoice.tt.conv import TtConv1d
from models.demos.openvoice.tt.wavenet import SpeakerRows

DTYPE = ttnn.float32


def float_conv(device: ttnn.Device, conv: nn.Conv1d, compute: ttnn.DeviceComputeKernelConfig) -> TtConv1d:
    """`TtConv1d` of a torch Conv1d with float32 weights and activations (both duration predictors)."""
    bias = None if conv.bias is None else conv.bias.detach()
    return TtConv1d(
        device,
        conv.weight.detach(),
        bias,
        padding=conv.padding[0],
        dilation=conv.dilation[0],
        groups=conv.groups,
        compute=compute,
        dtype=DTYPE,
        weights_dtype=DTYPE,
    )


def as_float32(x: ttnn.Tensor) -> ttnn.Tensor:
    """The input in the predictors' float32 (a no-op when it already is)."""
    return cast(x, DTYPE)


class TtDurationPredictor:
    def __init__(self, device: ttnn.Device, ref: DurationPredictor, *, compute: ttnn.DeviceComputeKernelConfig) -> None:
        self.conv_1 = float_conv(device, ref.conv_1, compute)
        self.norm_1 = TtChannelLayerNorm(device, ref.norm_1, dtype=DTYPE, compute=compute)
        self.conv_2 = float_conv(device, ref.conv_2, compute)
        self.norm_2 = TtChannelLayerNorm(device, ref.norm_2, dtype=DTYPE, compute=compute)
        self.proj = float_conv(device, ref.proj, compute)
        self.cond = float_conv(device, ref.cond, compute) if hasattr(ref, "cond") else None

    def __call__(
        self, x: ttnn.Tensor, mask: ttnn.Tensor, batch_size: int, length: int, speaker: SpeakerRows | None = None
    ) -> ttnn.Tensor:
        """x [1,1,B*T,C], mask [1,1,B*T,1], speaker (S, g) -> logw [1,1,B*T,1] float32, 0 where masked."""
        x = as_float32(x)
        if self.cond is not None:
            if speaker is None:
                raise ValueError("this duration predictor is speaker-conditioned: pass the speaker rows")
            x = ttnn.add(x, speaker.project(self.cond))
        x = self.norm_1(ttnn.relu(self.conv_1(ttnn.multiply(x, mask), batch_size, length)))
        x = self.norm_2(ttnn.relu(self.conv_2(ttnn.multiply(x, mask), batch_size, length)))
        return ttnn.multiply(self.proj(ttnn.multiply(x, mask), batch_size, length), mask)
