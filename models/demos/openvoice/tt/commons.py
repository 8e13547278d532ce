# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""TTNN pieces every `tt/` module shares (the reference's `commons.py` twin): the time-major
layout, the one host -> device upload, a dtype cast and the channel LayerNorm.

Layout everywhere in `tt/`: time-major ``[1, 1, B*T, C]``. Batch items are stacked along the
rows, so a 1-D conv over time is a conv over rows with per-item masks, a 1x1 conv is one matmul
over all B*T rows, and the reference's channel LayerNorm over C of a ``[B, C, T]`` tensor is
``ttnn.layer_norm`` over the last dim, with no transpose on device.
"""

from __future__ import annotations

import torch
import ttnn

from models.demos.openvoice.reference.commons import ChannelLayerNorm


def to_time_major(x: torch.Tensor) -> torch.Tensor:
    """Host [B, C, T] -> [1, 1, B*T, C] (before `upload`)."""
    b, c, t = x.shape
    return x.permute(0, 2, 1).reshape(1, 1, b * t, c)


def from_time_major(x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Host [1, 1, B*T, C] -> [B, C, T] (after `ttnn.to_torch`)."""
    return x.reshape(batch_size, -1, x.shape[-1]).permute(0, 2, 1)


def upload(
    device: ttnn.Device, x: torch.Tensor, dtype: ttnn.DataType = ttnn.bfloat16, layout: ttnn.Layout = ttnn.TILE_LAYOUT
) -> ttnn.Tensor:
    """A host tensor on `device` (DRAM, interleaved): weights once at load, inputs before a forward."""
    return ttnn.from_torch(x.float() if x.is_floating_point() else x, dtype=dtype, layout=layout, device=device)


def cast(x: ttnn.Tensor, dtype: ttnn.DataType) -> ttnn.Tensor:
    """`x` in `dtype`: a device typecast only when the dtype differs (a same-dtype typecast is a copy)."""
    return x if x.dtype == dtype else ttnn.typecast(x, dtype)


class TtChannelLayerNorm:
    """`ChannelLayerNorm` (gamma/beta over channels) on time-major rows; weights uploaded once."""

    def __init__(
        self,
        device: ttnn.Device,
        ref: ChannelLayerNorm,
        *,
        dtype: ttnn.DataType = ttnn.bfloat16,
        compute: ttnn.DeviceComputeKernelConfig | None = None,
    ) -> None:
        self.eps = ref.eps
        self.compute = compute
        self.gamma = upload(device, ref.gamma.detach().reshape(1, -1), dtype)
        self.beta = upload(device, ref.beta.detach().reshape(1, -1), dtype)

    def __call__(self, x: ttnn.Tensor) -> ttnn.Tensor:
        """x [1, 1, rows, C] -> normalised over C, same shape."""
        return ttnn.layer_norm(
            x, epsilon=self.eps, weight=self.gamma, bias=self.beta, compute_kernel_config=self.compute
        )
