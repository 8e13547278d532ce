# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Wormhole B0 arithmetic for shadow goldens: what the matrix engine and the packer do to the numbers.

Shadow goldens (:mod:`.goldens`) state an op's semantics in float32. A Wormhole computes the
matrix-engine ops (matmul, linear, conv, reduce-sum) with narrower operands, in up to four passes
("fidelity phases"), accumulating in a destination register of 32 or 16 bits; this module
reproduces those steps, so a compute-kernel config (``math_fidelity``, ``fp32_dest_acc_en``)
changes the shadow value as it changes a card's output. Sources (each rule has a hand-worked
test in ``tests/mock_wormhole/test_numerics.py``):

* **Operands** (tt-isa-documentation WormholeB0 ``SrcASrcB.md``, ``UNPACR_Regular.md``; tt-metal
  ``tt_metal/jit_build/data_format.cpp``): the unpacker presents every operand to the matrix
  engine in a 19-bit register. A float32 buffer arrives as TF32 (8-bit exponent, 10 mantissa
  bits) when ``fp32_dest_acc_en`` is on and as BF16 when it is off, both by truncating the low
  mantissa bits (:func:`present`); bfloat16 / bfloat8_b / bfloat4_b values are all BF16 numbers
  and arrive exact.
* **Roles** (``MVMUL.md``: ``Dst += SrcB @ SrcA``, SrcB 8x16, SrcA 16x16): a matmul's in0
  (activations, the rows) is SrcB and in1 (weights) is SrcA; a reduction's data is SrcA and its
  scaler SrcB (``GAPOOL.md``); an element-wise multiply's in0 is SrcA, in1 SrcB (``ELWMUL.md``).
* **Fidelity phases** (``ELWMUL.md`` ``SrcAFidelityBits`` / ``SrcBFidelityBits``; tt-metal
  tech_reports/matrix_engine/matrix_engine.md): the multipliers take 5 bits of SrcA (hidden
  bit + 4 mantissa bits in phase 0, the next 5 in phase 1; the TF32 mantissa's last bit is never
  used) and 7 of SrcB (hidden + 6 in phase 0, the next 4 in phase 2). Phase p uses SrcA's part
  ``p & 1`` and SrcB's part ``p >> 1``; LoFi runs phase 0, HiFi2 phases 0-1, HiFi3 0-2, HiFi4 0-3.
  So LoFi multiplies 5-bit by 7-bit significands; HiFi4 multiplies BF16 exactly and TF32 with
  SrcA's last mantissa bit dropped.
* **Accumulation** (``MVMUL.md``, ``Dst.md``): each instruction adds a 16-deep dot product (one
  phase) into Dst. With ``fp32_dest_acc_en`` Dst is float32; without it Dst is BF16 and every
  addition is rounded to BF16 (:func:`matmul` rounds after every phase of every 16-wide K
  chunk).
* **Packer** (``Packers/FormatConversion.md``): the output is rounded to the output tensor's dtype
  by the shadow harness (:mod:`.rounding`), as the packer converts Dst to the output format.

Not modelled (so not covered by a mock bar): rounding ties (the packer rounds ties away from
zero, BF16 Dst's mode is undocumented; both round to nearest even here), the FP16 (5-bit
exponent) Src format tt-metal picks for an op whose buffers are all float32 with fp32
accumulation off (BF16 here: no op of the port runs that way), the order of the float32 additions inside Dst (a
card's order differs from torch's; the effect is float32 rounding, ~1e-7 relative), intermediate
spills of partial sums between K blocks through L1 in the output format when ``packer_l1_acc``
and ``fp32_dest_acc_en`` are both off (rounded here once per 16-wide chunk, as if kept in BF16
Dst), denormal flushing, and the vector engine's (SFPU) exact polynomial approximations: the
approximate modes of exp / gelu use the published algorithms' error model (:func:`exp`), not
their bit patterns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

FIDELITY_PHASES = {"LoFi": (0,), "HiFi2": (0, 1), "HiFi3": (0, 1, 2), "HiFi4": (0, 1, 2, 3)}
K_CHUNK = 16  # the matrix engine's dot-product depth (MVMUL: 8x16 @ 16x16)

# Bit masks on float32 patterns (ELWMUL.md): sign, exponent and the mantissa bits each part keeps.
_TF32 = -(1 << 13)  # 0xffffe000: 10 mantissa bits
_SRCA_ALL = -(1 << 14)  # 0xffffc000: SrcA ignores the TF32 mantissa's last bit
_SRCA_HI = -(1 << 19)  # 0xfff80000: hidden bit + 4 mantissa bits
_SRCB_HI = -(1 << 17)  # 0xfffe0000: hidden bit + 6 mantissa bits


@dataclass(frozen=True)
class ComputeConfig:
    """The fields of a ttnn compute kernel config that change numbers on a Wormhole."""

    math_fidelity: str = "HiFi4"  # "LoFi" | "HiFi2" | "HiFi3" | "HiFi4"
    fp32_dest_acc_en: bool = False
    math_approx_mode: bool = False
    packer_l1_acc: bool = False

    def __post_init__(self) -> None:
        if self.math_fidelity not in FIDELITY_PHASES:
            raise ValueError(f"math_fidelity must be one of {tuple(FIDELITY_PHASES)}, got {self.math_fidelity!r}")

    @property
    def phases(self) -> tuple[int, ...]:
        return FIDELITY_PHASES[self.math_fidelity]


def read_config(config: Any) -> ComputeConfig:
    """A ttnn ``WormholeComputeKernelConfig`` (or ``DeviceComputeKernelConfig``) as a :class:`ComputeConfig`
    (used exactly as given, as ttnn does; ``MathFidelity.Invalid`` is an error)."""
    fidelity = getattr(config, "math_fidelity", None)
    if fidelity is None:
        raise ValueError(f"compute kernel config {config!r} has no math_fidelity: not a Wormhole config")
    name = getattr(fidelity, "name", str(fidelity).rsplit(".", 1)[-1])
    return ComputeConfig(
        math_fidelity=name,
        fp32_dest_acc_en=bool(getattr(config, "fp32_dest_acc_en", False)),
        math_approx_mode=bool(getattr(config, "math_approx_mode", False)),
        packer_l1_acc=bool(getattr(config, "packer_l1_acc", False)),
    )


def _bits(x: torch.Tensor) -> torch.Tensor:
    return x.contiguous().float().view(torch.int32)


def _masked(x: torch.Tensor, mask: int) -> torch.Tensor:
    return (_bits(x) & mask).view(torch.float32)


def to_tf32(x: torch.Tensor) -> torch.Tensor:
    """float32 -> TF32 as the unpacker converts it: the low 13 mantissa bits truncated
    (UNPACR_Regular.md ``WriteSrcTF32(DatumBits >> 13)``); BF16 values are unchanged."""
    return _masked(x, _TF32)


def truncate_bf16(x: torch.Tensor) -> torch.Tensor:
    """float32 -> BF16 as the unpacker converts it: the low 16 bits dropped."""
    return _masked(x, -(1 << 16))


def to_bf16(x: torch.Tensor) -> torch.Tensor:
    """float32 -> BF16 (round to nearest even), as float32."""
    return x.float().to(torch.bfloat16).float()


def srca_parts(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(phase-0 part, phase-1 part) of a TF32/BF16 value in SrcA: hidden + 4 bits, then the next 5."""
    high = _masked(x, _SRCA_HI)
    return high, _masked(x, _SRCA_ALL) - high


def srcb_parts(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(phase-0 part, phase-2 part) of a TF32/BF16 value in SrcB: hidden + 6 bits, then the next 4."""
    high = _masked(x, _SRCB_HI)
    return high, _masked(x, _TF32) - high


def present(x: torch.Tensor, config: ComputeConfig) -> torch.Tensor:
    """An operand as the unpacker writes it into SrcA/SrcB. A float32 buffer becomes TF32 with fp32
    accumulation and BF16 without (tt-metal jit_build ``get_single_unpack_dst_format``), both by
    truncation; BF16 / bfloat8_b / bfloat4_b values are BF16 numbers and arrive unchanged."""
    return to_tf32(x) if config.fp32_dest_acc_en else truncate_bf16(x)


def _phase_terms(b: torch.Tensor, a: torch.Tensor, phases: tuple[int, ...]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(SrcB operand, SrcA operand) pairs whose products sum to the phases' result, fewest products first.

    Phases combine: {0, 1} = b_hi * a; {0, 1, 2} = b_hi * a + b_lo * a_hi; {0..3} = b * a.
    """
    a_hi, a_lo = srca_parts(a)
    b_hi, b_lo = srcb_parts(b)
    a_all, b_all = a_hi + a_lo, b_hi + b_lo
    if phases == (0,):
        return [(b_hi, a_hi)]
    if phases == (0, 1):
        return [(b_hi, a_all)]
    if phases == (0, 1, 2):
        return [(b_hi, a_all), (b_lo, a_hi)]
    return [(b_all, a_all)]


def _each_phase(b: torch.Tensor, a: torch.Tensor, phases: tuple[int, ...]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    a_parts, b_parts = srca_parts(a), srcb_parts(b)
    return [(b_parts[p >> 1], a_parts[p & 1]) for p in phases]


def matmul(in0: torch.Tensor, in1: torch.Tensor, config: ComputeConfig) -> torch.Tensor:
    """``in0 @ in1`` as the matrix engine computes it (in0 in SrcB, in1 in SrcA), before packing.

    fp32 Dst: the selected phases' products summed in float32. BF16 Dst: every 16-deep chunk of
    K adds one phase at a time into the BF16 accumulator, rounding after each addition.
    """
    b, a = present(in0, config), present(in1, config)
    if config.fp32_dest_acc_en:
        terms = _phase_terms(b, a, config.phases)
        out = terms[0][0] @ terms[0][1]
        for left, right in terms[1:]:
            out = out + left @ right
        return out
    depth = a.shape[-2]
    out = None
    for start in range(0, depth, K_CHUNK):
        chunk_b, chunk_a = b[..., start : start + K_CHUNK], a[..., start : start + K_CHUNK, :]
        for left, right in _each_phase(chunk_b, chunk_a, config.phases):
            partial = left @ right
            out = to_bf16(partial if out is None else out + partial)
    return out


def conv2d(
    x: torch.Tensor, weight: torch.Tensor, config: ComputeConfig, stride: tuple[int, int], dilation: tuple[int, int], groups: int
) -> torch.Tensor:
    """A (pre-padded) NCHW conv as the matrix engine computes it: im2col rows (in0, SrcB) times the
    OIHW weight (in1, SrcA), before bias and packing.

    fp32 Dst: the phases' products summed, one torch conv per :func:`_phase_terms` pair. BF16 Dst: the
    im2col matmul with K in the device's channels-last order (kernel row, kernel column, channel),
    through :func:`matmul`'s BF16 accumulation.
    """
    b, a = present(x, config), present(weight, config)
    if config.fp32_dest_acc_en:  # conv is linear in each operand: one torch conv per phase pair, summed
        terms = _phase_terms(b, a, config.phases)
        return sum(torch.nn.functional.conv2d(left, right, stride=stride, dilation=dilation, groups=groups) for left, right in terms)
    n, c, height, width = b.shape
    co, ci, kh, kw = a.shape
    out_h = (height - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    out_w = (width - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    columns = torch.nn.functional.unfold(b, (kh, kw), dilation=dilation, stride=stride)  # [N, C*kh*kw, L]
    columns = columns.reshape(n, groups, ci, kh * kw, -1).transpose(2, 3).reshape(n, groups, kh * kw * ci, -1)
    weights = a.reshape(groups, co // groups, ci, kh * kw).transpose(2, 3).reshape(groups, co // groups, -1)
    out = matmul(columns.transpose(-1, -2), weights.transpose(-1, -2), config)  # [N, G, L, Co/G]
    return out.permute(0, 1, 3, 2).reshape(n, co, out_h, out_w)


def fused_bias(accumulated: torch.Tensor, bias: torch.Tensor, config: ComputeConfig) -> torch.Tensor:
    """A matmul/conv kernel's fused bias: the partial sums leave Dst through the partials buffer and come
    back through the unpacker (TF32) to be added to the bias row (TF32) by the matrix engine."""
    out = present(accumulated, config) + present(bias, config)
    return out if config.fp32_dest_acc_en else to_bf16(out)


def multiply(in0: torch.Tensor, in1: torch.Tensor, config: ComputeConfig) -> torch.Tensor:
    """Element-wise ``in0 * in1`` on the matrix engine (ELWMUL: in0 in SrcA, in1 in SrcB)."""
    a, b = present(in0, config), present(in1, config)
    out = None
    for left, right in _each_phase(b, a, config.phases):
        partial = left * right
        out = partial if out is None else out + partial
        if not config.fp32_dest_acc_en:
            out = to_bf16(out)
    return out


def reduce_sum(x: torch.Tensor, dims: tuple[int, ...], scaler: float, config: ComputeConfig, keepdim: bool) -> torch.Tensor:
    """Sum (times `scaler`) over `dims` on the matrix engine (GAPOOL: data in SrcA, the scaler tile in
    SrcB, BF16 as ttnn packs it). Accumulation order: 16-wide chunks, as a matmul."""
    moved = x.movedim(dims, tuple(range(x.dim() - len(dims), x.dim())))
    rows = moved.reshape(*moved.shape[: x.dim() - len(dims)], 1, -1)  # [..., 1, K]
    scale = torch.full_like(rows, float(to_bf16(torch.tensor(scaler))))  # [..., 1, K]
    # GAPOOL multiplies SrcB (the scaler) @ SrcA (the data): the data takes SrcA's role.
    out = matmul(scale, rows.transpose(-1, -2).contiguous(), config)
    out = out.reshape(moved.shape[: x.dim() - len(dims)])
    if keepdim:
        for dim in sorted(d % x.dim() for d in dims):
            out = out.unsqueeze(dim)
    return out


# tt-llk ckernel_sfpu_exp.h, fast approximate exp (Schraudolph): y -> max(y, -88.5); t = round(A*y + (B - C))
# as an unsigned 16-bit integer; the result's bits are t << 15 (A = 2**8 / ln 2, B = 127 * 2**8, C ~ 11.2).
_EXP_FLOOR = -88.5
_EXP_A = 369.329925537109375
_EXP_B_MINUS_C = 32500.818359375


def exp(x: torch.Tensor, approximate: bool) -> torch.Tensor:
    """The vector engine's exp. Exact to float32 by default. ``approximate`` is tt-llk's fast mode
    (``ttnn.exp(fast_and_approximate_mode=True)``, and exp inside ops run with ``math_approx_mode``):
    the float is assembled from an integer that is linear in x, so 2**frac is piecewise linear with
    a 7-bit mantissa; error up to ~3% (inputs above ~88.7 saturate at the largest pattern)."""
    x = x.float()
    if not approximate:
        return torch.exp(x)
    t = torch.round(torch.clamp(x, min=_EXP_FLOOR).double() * _EXP_A + _EXP_B_MINUS_C).clamp(0, 65535)
    return (t.to(torch.int32) << 15).view(torch.float32)
