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
from models.demos.openvoice.tt.precision import Precision

# HiFi4 + fp32 accumulation: the four fidelity phases multiply BF16 operands exactly.
EXACT_PRODUCTS = Precision("HiFi4", fp32_acc=True)


def to_time_major(x: torch.Tensor) -> torch.Tensor:
    """Host [B, C, T] -> [1, 1, B*T, C] (before `upload`)."""
    b, c, t = x.shape
    return x.permute(0, 2, 1).reshape(1, 1, b * t, c)


def from_time_major(x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Host [1, 1, B*T, C] -> [B, C, T] (after `ttnn.to_torch`)."""
    return x.reshape(batch_size, -1, x.shape[-1]).permute(0, 2, 1)


def upload(
    device: ttnn.Device | None,
    x: torch.Tensor,
    dtype: ttnn.DataType = ttnn.bfloat16,
    layout: ttnn.Layout = ttnn.TILE_LAYOUT,
) -> ttnn.Tensor:
    """A host tensor on `device` (DRAM, interleaved): weights once at load, inputs before a forward; with
    `device` None the same tensor left on the host (to be copied into a persistent device tensor)."""
    return ttnn.from_torch(x.float() if x.is_floating_point() else x, dtype=dtype, layout=layout, device=device)


def num_chips(device: ttnn.Device | ttnn.MeshDevice) -> int:
    """Chips a forward runs on: 1 for a device, 2 for an N300's 1x2 mesh (data parallel, weights replicated)."""
    return device.get_num_devices()


def upload_per_chip(
    device: ttnn.MeshDevice | None,
    mesh: ttnn.Device | ttnn.MeshDevice,
    parts: list[torch.Tensor],
    dtype: ttnn.DataType = ttnn.bfloat16,
    layout: ttnn.Layout = ttnn.TILE_LAYOUT,
) -> ttnn.Tensor:
    """One input, a part per chip of `mesh` (equal shapes): the parts stacked on dim 0 and sharded over the chips,
    so each chip holds its own part at the single-chip shape (on one chip: the part itself). `device` None:
    left on the host, mapped for `mesh` (a persistent input's request)."""
    if len(parts) == 1:
        return upload(device, parts[0], dtype, layout)
    x = torch.cat(parts)
    x = x.float() if x.is_floating_point() else x
    mapper = ttnn.ShardTensorToMesh(mesh, dim=0)
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device, mesh_mapper=mapper)


def download_chips(x: ttnn.Tensor, mesh: ttnn.Device | ttnn.MeshDevice) -> torch.Tensor:
    """A forward's output -> host, the chips' parts concatenated on dim 0 (`upload_per_chip`'s inverse)."""
    if num_chips(mesh) == 1:
        return ttnn.to_torch(x)
    return ttnn.to_torch(x, mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=0))


def download_replicated(x: ttnn.Tensor, mesh: ttnn.Device | ttnn.MeshDevice) -> torch.Tensor:
    """An output every chip computed alike (a replicated forward) -> host: chip 0's copy."""
    return download_chips(x, mesh)[: x.shape[0]]


def cast(x: ttnn.Tensor, dtype: ttnn.DataType) -> ttnn.Tensor:
    """`x` in `dtype`: a device typecast only when the dtype differs (a same-dtype typecast is a copy)."""
    return x if x.dtype == dtype else ttnn.typecast(x, dtype)


# ---- float32 arithmetic on a Wormhole -----------------------------------------------------------------
# The matrix engine reads a float32 operand as TF32 (10 mantissa bits, truncated) and sums on the matrix
# engine (ttnn.softmax, ttnn.layer_norm) see TF32 data: ~1e-3 relative, enough to move a token's
# ceil(exp(logw)) by a frame (TRADEOFFS.md "Durations"). Where float32 must stay float32 (MeloTTS's text
# encoder and duration predictors: everything that decides the durations) the products run as three
# exact BF16 products and every sum, normalisation and softmax on the vector engine, which computes in
# float32.


def split_bf16(x: ttnn.Tensor, parts: int = 2) -> tuple[ttnn.Tensor, ...]:
    """float32 x -> `parts` bfloat16 tensors summing to x: to 16 significant bits with 2, exactly with 3
    (each remainder x - hi is exact in float32 and has 8 fewer significant bits)."""
    pieces = []
    rest = x
    for _ in range(parts - 1):
        piece = ttnn.typecast(rest, ttnn.bfloat16)
        pieces.append(piece)
        rest = ttnn.subtract(rest, ttnn.typecast(piece, ttnn.float32))
    return (*pieces, ttnn.typecast(rest, ttnn.bfloat16))


def bf16_parts(x: torch.Tensor, parts: int = 3) -> list[torch.Tensor]:
    """The host twin of `split_bf16`: float32 x -> `parts` tensors, each exactly a bfloat16 value, summing
    to x exactly with 3 (checked: embedding tables and 0/1 copies rely on it), to 16 bits with 2."""
    pieces, rest = [], x.float()
    for _ in range(parts - 1):
        pieces.append(rest.bfloat16().float())
        rest = rest - pieces[-1]
    last = rest.bfloat16().float()
    if parts == 3 and (not torch.equal(last, rest) or not torch.equal((pieces[0] + pieces[1]) + last, x.float())):
        raise ValueError("tensor does not split exactly into three bfloat16 parts")
    return [*pieces, last]


def exact_products_config(device: ttnn.Device) -> ttnn.DeviceComputeKernelConfig:
    """HiFi4 + fp32 accumulation: the four fidelity phases multiply BF16 operands exactly."""
    return EXACT_PRODUCTS.config(device)


def sum_of_split_products(product, a: tuple[ttnn.Tensor, ttnn.Tensor], b: tuple[ttnn.Tensor, ttnn.Tensor]) -> ttnn.Tensor:
    """a @ b in float32 as hi*hi + (hi*lo + lo*hi), each `product(x, y)` exact (lo*lo, ~2**-16 of a term, dropped);
    the three partial results are added in float32 on the vector engine, smallest first."""
    small = ttnn.add(product(a[0], b[1]), product(a[1], b[0]))
    return ttnn.add(product(a[0], b[0]), small)


def matmul_float32(a: ttnn.Tensor, b: ttnn.Tensor, **kwargs) -> ttnn.Tensor:
    """float32 a @ b (both on device) to ~2**-16 relative per product instead of TF32's 2**-10."""
    config = exact_products_config(a.device())
    product = lambda x, y: ttnn.matmul(x, y, compute_kernel_config=config, dtype=ttnn.float32, **kwargs)  # noqa: E731
    return sum_of_split_products(product, split_bf16(a), split_bf16(b))


def select_rows_float32(selector: ttnn.Tensor, values: ttnn.Tensor) -> ttnn.Tensor:
    """selector @ values for a 0/1 selector (each output row one values row, or zeros) and float32 values,
    exactly: three BF16 parts of the values, each an exact product, added back in float32."""
    selector, config = cast(selector, ttnn.bfloat16), exact_products_config(values.device())
    hi, mid, lo = (ttnn.matmul(selector, part, compute_kernel_config=config, dtype=ttnn.float32) for part in split_bf16(values, parts=3))
    return ttnn.add(ttnn.add(hi, mid), lo)


def softmax_float32(logits: ttnn.Tensor, dim: int = -1) -> ttnn.Tensor:
    """Softmax of float32 logits in float32 arithmetic: max, subtract, exp, sum (ttnn's accurate float32
    reduce on the vector engine), times the reciprocal, as torch computes it. The max only shifts the
    exponent (any shift gives the same quotient), so its own precision does not matter."""
    shifted = ttnn.subtract(logits, ttnn.max(logits, dim=dim, keepdim=True))
    exponentials = ttnn.exp(shifted)
    return ttnn.multiply(exponentials, ttnn.reciprocal(ttnn.sum(exponentials, dim=dim, keepdim=True)))


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

        self.float32 = dtype == ttnn.float32
        self.inverse_channels = 1.0 / ref.gamma.numel()

    def __call__(self, x: ttnn.Tensor) -> ttnn.Tensor:
        """x [1, 1, rows, C] -> normalised over C, same shape. float32: the moments as vector-engine sums
        (ttnn.layer_norm's are matrix-engine reduces of TF32 data), as the reference computes them."""
        if not self.float32:
            return ttnn.layer_norm(x, epsilon=self.eps, weight=self.gamma, bias=self.beta, compute_kernel_config=self.compute)
        mean = ttnn.multiply(ttnn.sum(x, dim=-1, keepdim=True), self.inverse_channels)
        centred = ttnn.subtract(x, mean)
        variance = ttnn.multiply(ttnn.sum(ttnn.square(centred), dim=-1, keepdim=True), self.inverse_channels)
        normalised = ttnn.multiply(centred, ttnn.rsqrt(ttnn.add(variance, self.eps)))
        return ttnn.add(ttnn.multiply(normalised, self.gamma), self.beta)
