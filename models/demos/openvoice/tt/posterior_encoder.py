# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""TTNN posterior encoder (reference `posterior_encoder.PosteriorEncoder`).

1x1 pre conv (513 -> H as a matmul) -> WaveNet -> two 1x1 convs for the mean and the
log-std (the proj weight split at load instead of slicing its output), then
z = (m + noise * tau * exp(logs)) * mask. The draw arrives already scaled by tau
(`prepare_inputs` uploads ``tau * noise``), so sampling costs one multiply and one add.
fp32 accumulation (`conv.precise_compute_config`): logs goes through exp, so its error is multiplied into z.
"""

from __future__ import annotations

import ttnn

from models.demos.openvoice.reference.posterior_encoder import PosteriorEncoder
from models.demos.openvoice.tt.conv import TtConv1d
from models.demos.openvoice.tt.wavenet import SpeakerRows, TtWN


class TtPosteriorEncoder:
    def __init__(
        self,
        device: ttnn.Device,
        ref: PosteriorEncoder,
        *,
        zero_cond: bool,
        compute: ttnn.DeviceComputeKernelConfig,
        weights_dtype: ttnn.DataType = ttnn.bfloat16,
    ) -> None:
        c = ref.out_channels
        conv = dict(compute=compute, weights_dtype=weights_dtype)
        self.pre = TtConv1d(device, ref.pre.weight.detach(), ref.pre.bias.detach(), **conv)
        self.enc = TtWN(device, ref.enc, zero_cond=zero_cond, **conv)
        w, b = ref.proj.weight.detach(), ref.proj.bias.detach()
        self.proj_m = TtConv1d(device, w[:c], b[:c], **conv)
        self.proj_logs = TtConv1d(device, w[c:], b[c:], **conv)

    def __call__(
        self,
        spec: ttnn.Tensor,
        mask: ttnn.Tensor,
        scaled_noise: ttnn.Tensor,
        batch_size: int,
        length: int,
        speaker: SpeakerRows | None = None,
    ) -> tuple[ttnn.Tensor, ttnn.Tensor, ttnn.Tensor]:
        """spec [1,1,B*T,bins], mask [1,1,B*T,1], scaled_noise = tau*noise [1,1,B*T,C] -> (z, m, logs)."""
        x = ttnn.multiply(self.pre(spec, batch_size, length), mask)
        x = self.enc(x, mask, batch_size, length, speaker)
        m = ttnn.multiply(self.proj_m(x, batch_size, length), mask)
        logs = ttnn.multiply(self.proj_logs(x, batch_size, length), mask)
        z = ttnn.multiply(ttnn.add(m, ttnn.multiply(scaled_noise, ttnn.exp(logs))), mask)
        return z, m, logs
