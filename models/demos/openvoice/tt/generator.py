# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""TTNN HiFi-GAN decoder (reference `generator.Generator`, ResBlock1 and ResBlock2).

conv_pre (k7) -> per stage: leaky-ReLU(0.1), ConvTranspose1d (polyphase conv, see
`conv.TtConvTranspose1d`), mean of the residual blocks -> leaky-ReLU(0.01) -> conv_post
(k7, no bias) -> tanh. Unmasked by default, as upstream (padded frames of a shorter batch
item leak into its last frames exactly as in the reference); with a frame mask (the
reference's opt-in `x_mask`) every conv input is zeroed past each item's length, so each item
equals the item alone. The mask [1, 1, B*T, 1] is repeated to each stage's rate on device
(`ttnn.repeat_interleave` by the stage's stride: rows b*T*r + t*r + j keep item b's order) in
the stage's dtype; one multiply per conv input (MeloTTS release: 5 stages x (1 + 3 blocks x
3 units x 2 convs) + conv_post = 96 multiplies), about as many element-wise passes as the
leaky-ReLUs.

Folded at load (exact):
* zero_g: cond(0) is the cond bias, added to conv_pre's bias;
* the 1/num_kernels mean of each stage: leaky-ReLU is positively homogeneous
  (lrelu(x / n) == lrelu(x) / n), so the 1/n moves into the weights of the next transposed
  conv (bias untouched) or of the bias-free conv_post; the stage just sums its blocks.
"""

from __future__ import annotations

from typing import Any

import ttnn
from torch import nn

from models.demos.openvoice.reference.commons import LRELU_SLOPE
from models.demos.openvoice.reference.generator import Generator, ResBlock1, ResBlock2
from models.demos.openvoice.tt.commons import cast
from models.demos.openvoice.tt.conv import TtConv1d, TtConvTranspose1d
from models.demos.openvoice.tt.wavenet import SpeakerRows

FINAL_LRELU_SLOPE = 0.01  # torch's default slope before conv_post: upstream quirk kept
# Trailing upsampling stages whose activations are fp32 (the rest bf16). The last stage's
# residual stream goes straight into conv_post, whose taps largely cancel, so its bf16
# storage (2^-9 relative) limits the audio: release config, random weights, 3 s of speech,
# mock audio PCC 0.9942 all-bf16 -> 0.9991 with 1 fp32 stage -> 0.99944 with 2 -> 0.99946
# all fp32 (the rest is bf16 weights). Two stages keep a margin over the mock's 0.999 bar
# that one stage (0.9991) does not; costs 2x DRAM traffic/footprint in those stages.
FP32_STAGES = 2


def _same_conv(device: ttnn.Device, conv: nn.Conv1d, **conv_args: Any) -> TtConv1d:
    weight, bias = conv.weight.detach(), conv.bias.detach()
    return TtConv1d(device, weight, bias, padding=conv.padding[0], dilation=conv.dilation[0], **conv_args)


class TtResBlock:
    """ResBlock1 (units of dilated conv + undilated conv) or ResBlock2 (units of one dilated conv).

    Within a ResBlock1 unit the leaky ReLU between the two convs is fused into the first conv's kernel
    (`Conv2dConfig.activation`): one element-wise pass less per unit (modelled: TRADEOFFS.md "TTNN:
    device-time model"). Masking after it is unchanged: leaky-ReLU(0) = 0 and m in {0, 1}."""

    def __init__(
        self,
        device: ttnn.Device,
        block: ResBlock1 | ResBlock2,
        **conv_args: Any,  # compute, dtype, weights_dtype of every conv
    ) -> None:
        if isinstance(block, ResBlock1):
            fused = ttnn.UnaryWithParam(ttnn.UnaryOpType.LEAKY_RELU, LRELU_SLOPE)
            self.units = [
                [_same_conv(device, c1, activation=fused, **conv_args), _same_conv(device, c2, **conv_args)]
                for c1, c2 in zip(block.convs1, block.convs2)
            ]
        else:
            self.units = [[_same_conv(device, conv, **conv_args)] for conv in block.convs]

    def __call__(self, x: ttnn.Tensor, batch_size: int, length: int, mask: ttnn.Tensor | None = None) -> ttnn.Tensor:
        for unit in self.units:
            xt = ttnn.leaky_relu(x, negative_slope=LRELU_SLOPE)
            for conv in unit:  # every conv but the unit's first gets an input its predecessor activated
                xt = conv(masked(xt, mask), batch_size, length)
            x = ttnn.add(xt, x)
        return x  # not masked at the end (the reference's is): past the length it reaches no conv


def masked(x: ttnn.Tensor, mask: ttnn.Tensor | None) -> ttnn.Tensor:
    """x * mask (rows past each item's length zeroed), or x when the decoder runs unmasked."""
    return x if mask is None else ttnn.multiply(x, mask)


class TtGenerator:
    def __init__(
        self,
        device: ttnn.Device,
        ref: Generator,
        *,
        zero_cond: bool,
        compute: ttnn.DeviceComputeKernelConfig,
        weights_dtype: ttnn.DataType = ttnn.bfloat16,
        fp32_stages: int = FP32_STAGES,
    ) -> None:
        n = ref.num_kernels
        first_fp32 = len(ref.ups) - fp32_stages
        dtypes = [ttnn.float32 if i >= first_fp32 else ttnn.bfloat16 for i in range(len(ref.ups))]
        pre_bias = ref.conv_pre.bias.detach().clone()
        self.cond = None
        if hasattr(ref, "cond"):
            pre_bias += ref.cond.bias.detach()  # zero_g conditioning folded into biases at load
            if not zero_cond:
                self.cond = TtConv1d(
                    device, ref.cond.weight.detach(), None, compute=compute, weights_dtype=weights_dtype
                )
        self.conv_pre = TtConv1d(
            device, ref.conv_pre.weight.detach(), pre_bias, padding=3, compute=compute, weights_dtype=weights_dtype
        )
        self.ups: list[TtConvTranspose1d] = []
        for i, up in enumerate(ref.ups):
            weight = up.weight.detach() / (n if i > 0 else 1)  # previous stage's mean folded in
            self.ups.append(
                TtConvTranspose1d(
                    device,
                    weight,
                    up.bias.detach(),
                    stride=up.stride[0],
                    padding=up.padding[0],
                    compute=compute,
                    dtype=dtypes[i],
                    weights_dtype=weights_dtype,
                )
            )
        self.stages = [
            [
                TtResBlock(device, block, compute=compute, dtype=dtypes[i], weights_dtype=weights_dtype)
                for block in ref.resblocks[i * n : (i + 1) * n]
            ]
            for i in range(len(ref.ups))
        ]
        post = ref.conv_post
        self.conv_post = TtConv1d(
            device,
            post.weight.detach() / n,
            None,
            padding=post.padding[0],
            compute=compute,
            dtype=dtypes[-1],
            weights_dtype=weights_dtype,
        )

    def __call__(
        self,
        x: ttnn.Tensor,
        batch_size: int,
        length: int,
        speaker: SpeakerRows | None = None,
        mask: ttnn.Tensor | None = None,
    ) -> ttnn.Tensor:
        """x [1,1,B*T,inter] (zero past each length when masked) -> audio [1,1,B*T*prod(rates),1]
        in [-1, 1]. mask [1,1,B*T,1] 0/1 or None: per-item masking (module doc)."""
        masks = self.stage_masks(mask)
        x = self.head(x, batch_size, length, speaker)
        for i in range(len(self.ups)):
            x = self.upsample_stage(i, x, batch_size, length, masks)
            length *= self.ups[i].stride
        return self.tail(x, batch_size, length, masks)

    def stage_masks(self, mask: ttnn.Tensor | None) -> list[ttnn.Tensor] | None:
        """The frame mask at every rate: [stage 0 input, stage 0 output = stage 1 input, ..., conv_post
        input], each in the dtype of the activations it multiplies."""
        if mask is None:
            return None
        masks = [cast(mask, self.conv_pre.dtype)]
        for up in self.ups:  # stage i's activations have its upsampling conv's dtype
            masks.append(cast(ttnn.repeat_interleave(masks[-1], up.stride, dim=2), up.conv.dtype))
        return masks

    # The pieces of __call__, separately callable for per-stage benchmarks.
    def head(self, x: ttnn.Tensor, batch_size: int, length: int, speaker: SpeakerRows | None = None) -> ttnn.Tensor:
        """conv_pre (+ conditioning when not zero_g)."""
        x = self.conv_pre(x, batch_size, length)
        if self.cond is not None:
            x = ttnn.add(x, speaker.project(self.cond))
        return x

    def upsample_stage(
        self, index: int, x: ttnn.Tensor, batch_size: int, length: int, masks: list[ttnn.Tensor] | None = None
    ) -> ttnn.Tensor:
        """Stage `index` on `length` input frames: lrelu, upsampling, sum of its residual blocks."""
        mask_in, mask_out = (None, None) if masks is None else masks[index : index + 2]
        up = self.ups[index]
        x = up(masked(ttnn.leaky_relu(x, negative_slope=LRELU_SLOPE), mask_in), batch_size, length)
        length *= up.stride
        total = None
        for block in self.stages[index]:
            y = block(x, batch_size, length, mask_out)
            total = y if total is None else ttnn.add(total, y)
        return total

    def tail(self, x: ttnn.Tensor, batch_size: int, length: int, masks: list[ttnn.Tensor] | None = None) -> ttnn.Tensor:
        """lrelu(0.01), conv_post, tanh on `length` audio samples per item."""
        x = masked(ttnn.leaky_relu(x, negative_slope=FINAL_LRELU_SLOPE), None if masks is None else masks[-1])
        return ttnn.tanh(self.conv_post(x, batch_size, length))
