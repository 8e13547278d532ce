# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Host emulation of how a value is stored in a ttnn dtype.

Shadow values are kept as float32 (integer dtypes: int64) holding exactly the
numbers the device tensor would store: bfloat16 rounds to nearest-even;
bfloat8_b / bfloat4_b are block floats whose 16 consecutive elements along the
last dimension (one row of a 16x16 tile face) share one exponent, with a 7-bit
(bfp8) or 3-bit (bfp4) signed magnitude, round-to-nearest-even and saturation.

The bfloat8_b emulation is pure torch (no ttnn call, so it never shows up in a
graph capture) and is checked bit-exactly against ttnn's own host packing in
``test_goldens.py``. bfloat4_b uses the same scheme with 3 bits, unverified.
What is NOT emulated: the precision of the math (bf16 / bfp8 accumulation in
the kernels, math fidelity); goldens compute in float32.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    import ttnn

_INTEGER_DTYPES = ("UINT8", "UINT16", "UINT32", "INT8", "INT32")


def block_float_round(value: torch.Tensor, magnitude_bits: int = 7) -> torch.Tensor:
    """Round like a tt block float: groups of 16 along the last dim share the largest exponent."""
    x = value.float()
    if x.dim() == 0:
        return block_float_round(x.reshape(1), magnitude_bits).reshape(())
    shape = x.shape
    rows = x.reshape(-1, shape[-1])
    pad = (-shape[-1]) % 16
    groups = torch.nn.functional.pad(rows, (0, pad)).reshape(rows.shape[0], -1, 16)

    finite = torch.isfinite(groups)
    group_max = torch.where(finite, groups.abs(), torch.zeros_like(groups)).amax(dim=-1, keepdim=True)
    exponent = torch.floor(torch.log2(torch.where(group_max > 0, group_max, torch.ones_like(group_max))))
    # Magnitudes are m * 2**(exponent - (bits - 1)) with 0 <= m < 2**bits (the leading one is explicit).
    quantum = torch.exp2(exponent - (magnitude_bits - 1))
    limit = 2**magnitude_bits - 1
    rounded = torch.clamp(torch.round(groups / quantum), -limit, limit) * quantum
    # A non-finite element takes the shared exponent to inf/nan: the rest of its group flushes to zero.
    group_has_nonfinite = (~finite).any(dim=-1, keepdim=True)
    rounded = torch.where(group_has_nonfinite, torch.zeros_like(rounded), rounded)
    rounded = torch.where(finite, rounded, groups)
    return rounded.reshape(rows.shape[0], -1)[:, : shape[-1]].reshape(shape)


def round_to_dtype(value: torch.Tensor, dtype: ttnn.DataType | None) -> torch.Tensor:
    """The host value a tensor of ttnn `dtype` holds for `value` (float32 or int64)."""
    import ttnn

    if not isinstance(value, torch.Tensor):
        value = torch.as_tensor(value)
    if dtype is None:
        return value.float() if value.is_floating_point() or value.dtype == torch.bool else value.long()
    if dtype == ttnn.float32:
        return value.float()
    if dtype == ttnn.bfloat16:
        return value.float().to(torch.bfloat16).float()
    if dtype == ttnn.bfloat8_b:
        return block_float_round(value, magnitude_bits=7)
    if dtype == ttnn.bfloat4_b:
        return block_float_round(value, magnitude_bits=3)
    if dtype.name == "FP8_E4M3":
        return value.float().to(torch.float8_e4m3fn).float()
    if dtype.name in _INTEGER_DTYPES:
        return torch.round(value.double()).long() if value.is_floating_point() else value.long()
    raise NotImplementedError(f"shadow execution: no host rounding rule for dtype {dtype}")


def bf16(value: torch.Tensor) -> torch.Tensor:
    """`value` as a bfloat16 device tensor stores it (round to nearest even), as float32.

    The torch-side counterpart of uploading with ``dtype=ttnn.bfloat16``; same rule as
    ``round_to_dtype(value, ttnn.bfloat16)`` without importing ttnn.
    """
    return torch.as_tensor(value).float().to(torch.bfloat16).float()
