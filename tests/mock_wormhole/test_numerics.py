# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Wormhole arithmetic of the shadow goldens (mock_wormhole/numerics.py), each rule on a hand-worked case.

Values are chosen so every bit is accounted for; the expected results are worked out from the
documents named in each test (tt-isa-documentation WormholeB0 MVMUL.md / ELWMUL.md /
UNPACR_Regular.md / GAPOOL.md, tt-llk ckernel_sfpu_exp.h, tt-metal tech_reports/matrix_engine).
The op-level tests run the real ttnn call on the mock and read the shadow value; on a card the
same calls run the kernels, which these exact figures describe (the op-level tests run on both).
"""

from __future__ import annotations

import pytest
import torch

import ttnn
from mock_wormhole import numerics
from mock_wormhole.shadow import ShadowError

FIDELITIES = ("LoFi", "HiFi2", "HiFi3", "HiFi4")
A_LOW = 1 + 2**-5  # 2**-5 is in SrcA's phase-1 part (mantissa bits 5..9)
B_LOW = 1 + 2**-7  # 2**-7 is in SrcB's phase-2 part (mantissa bits 7..10)


def _config(device, fidelity: str, fp32: bool = True) -> ttnn.WormholeComputeKernelConfig:
    return ttnn.init_device_compute_kernel_config(
        device.arch(), math_fidelity=getattr(ttnn.MathFidelity, fidelity), fp32_dest_acc_en=fp32, math_approx_mode=False
    )


def _tile(value: float, row: int = 0, column: int = 0) -> torch.Tensor:
    t = torch.zeros(1, 1, 32, 32)
    t[0, 0, row, column] = value
    return t


def _upload(device, t: torch.Tensor, dtype=ttnn.float32) -> ttnn.Tensor:
    return ttnn.from_torch(t, dtype, layout=ttnn.TILE_LAYOUT, device=device)


# ---- operand presentation and fidelity parts (pure functions) ------------------------------------
def test_tf32_truncates_thirteen_bits():
    """UNPACR_Regular.md: ``WriteSrcTF32(DatumBits >> 13)``: truncation, not rounding."""
    x = torch.tensor([1 + 2**-10 + 2**-11 + 2**-23, -(1 + 2**-11), 3.0])
    assert numerics.to_tf32(x).tolist() == [1 + 2**-10, -1.0, 3.0]


def test_bf16_presentation_without_fp32_accumulation():
    """A float32 buffer reaches Src as BF16 (truncated) when fp32_dest_acc_en is off."""
    x = torch.tensor([1 + 2**-7 + 2**-8 + 2**-9])
    assert numerics.present(x, numerics.ComputeConfig("HiFi4", fp32_dest_acc_en=False)).item() == 1 + 2**-7
    assert numerics.present(x, numerics.ComputeConfig("HiFi4", fp32_dest_acc_en=True)).item() == 1 + 2**-7 + 2**-8 + 2**-9


def test_srca_parts():
    """ELWMUL.md SrcAFidelityBits: phase 0 keeps hidden + 4 bits, phase 1 the next 5; TF32's 10th bit is unused."""
    x = torch.tensor([1 + 2**-1 + 2**-4 + 2**-5 + 2**-9 + 2**-10])
    high, low = numerics.srca_parts(x)
    assert high.item() == 1 + 2**-1 + 2**-4
    assert low.item() == 2**-5 + 2**-9


def test_srcb_parts():
    """ELWMUL.md SrcBFidelityBits: phase 0 keeps hidden + 6 bits, phase 2 the next 4 (all 10 TF32 bits)."""
    x = torch.tensor([-(1 + 2**-6 + 2**-7 + 2**-10)])
    high, low = numerics.srcb_parts(x)
    assert high.item() == -(1 + 2**-6)
    assert low.item() == -(2**-7 + 2**-10)


# ---- matmul on the mock: fidelity phases, operand roles, accumulation ---------------------------
@pytest.mark.parametrize(
    "fidelity, expected",
    [
        ("LoFi", 1.0),  # phase 0: a_hi * b_hi
        ("HiFi2", A_LOW),  # + phase 1: a_lo * b_hi
        ("HiFi3", A_LOW + 2**-7),  # + phase 2: a_hi * b_lo
        ("HiFi4", A_LOW * B_LOW),  # + phase 3: a_lo * b_lo (2**-12)
    ],
)
def test_matmul_fidelity_phases(device, fidelity, expected):
    """matrix_engine.md / MVMUL.md: in0 (the rows) is SrcB, in1 SrcA; each phase adds one part product."""
    in0, in1 = _upload(device, _tile(B_LOW)), _upload(device, _tile(A_LOW))
    out = ttnn.matmul(in0, in1, compute_kernel_config=_config(device, fidelity), dtype=ttnn.float32)
    assert ttnn.to_torch(out)[0, 0, 0, 0].item() == expected


def test_matmul_operand_roles(device):
    """Swapping the operands swaps their roles: at HiFi2, 2**-5 in SrcB's high part and 2**-7 in SrcA's
    low part are both kept, so the product is exact; in the other order (above) 2**-7 is lost."""
    in0, in1 = _upload(device, _tile(A_LOW)), _upload(device, _tile(B_LOW))
    out = ttnn.matmul(in0, in1, compute_kernel_config=_config(device, "HiFi2"), dtype=ttnn.float32)
    assert ttnn.to_torch(out)[0, 0, 0, 0].item() == A_LOW * B_LOW


def test_matmul_float32_operands_are_tf32(device):
    """Even at HiFi4 with fp32 accumulation a float32 operand keeps 10 mantissa bits (in1: 9)."""
    in0, in1 = _upload(device, _tile(1 + 2**-10 + 2**-12)), _upload(device, _tile(1 + 2**-9 + 2**-10))
    out = ttnn.matmul(in0, in1, compute_kernel_config=_config(device, "HiFi4"), dtype=ttnn.float32)
    assert ttnn.to_torch(out)[0, 0, 0, 0].item() == (1 + 2**-10) * (1 + 2**-9)


@pytest.mark.parametrize("fp32, expected", [(True, 1 + 31 * 2**-9), (False, 1 + 8 * 2**-7)])
def test_matmul_destination_accumulation(device, fp32, expected):
    """MVMUL.md: each 16-deep dot product is added into Dst. BF16 Dst rounds every addition: the first
    chunk (1 + 15 * 2**-9 = 1.0293) becomes 1.03125 (1 + 4 * 2**-7), the second adds 16 * 2**-9 exactly."""
    row = torch.zeros(1, 1, 32, 32)
    row[0, 0, 0, :] = 1.0
    column = torch.zeros(1, 1, 32, 32)
    column[0, 0, 0, 0] = 1.0
    column[0, 0, 1:, 0] = 2**-9
    out = ttnn.matmul(
        _upload(device, row, ttnn.bfloat16), _upload(device, column, ttnn.bfloat16),
        compute_kernel_config=_config(device, "HiFi4", fp32=fp32), dtype=ttnn.float32,
    )  # fmt: skip
    assert ttnn.to_torch(out)[0, 0, 0, 0].item() == expected


def test_linear_fused_bias_is_unpacked_as_tf32(device):
    """The fused bias adds the partial sums and the bias as the unpacker presents them (TF32)."""
    x, w = _upload(device, _tile(1.0)), _upload(device, _tile(1.0))
    bias = ttnn.from_torch(torch.full((1, 32), 1 + 2**-12), ttnn.float32, layout=ttnn.TILE_LAYOUT, device=device)
    out = ttnn.linear(x, w, bias=bias, compute_kernel_config=_config(device, "HiFi4"), dtype=ttnn.float32)
    assert ttnn.to_torch(out)[0, 0, 0, 0].item() == 2.0


def test_default_matmul_config_is_ttnn_default(device):
    """No compute_kernel_config: ttnn 0.81.1's default for two float32 inputs on Wormhole is HiFi3 with
    fp32 accumulation (matmul_device_operation.cpp), so only the a_lo * b_lo phase is missing."""
    out = ttnn.matmul(_upload(device, _tile(B_LOW)), _upload(device, _tile(A_LOW)), dtype=ttnn.float32)
    assert ttnn.to_torch(out)[0, 0, 0, 0].item() == A_LOW + 2**-7


# ---- reductions, element-wise multiply, vector engine -------------------------------------------
def test_sum_data_is_srca(device):
    """GAPOOL.md: on the matrix engine the data is SrcA, so a float32 value loses TF32's last mantissa bit
    even at HiFi4 (``fast_and_approximate_mode=True`` sends a float32 sum there)."""
    x = _upload(device, torch.full((1, 1, 32, 32), 1 + 2**-10))
    out = ttnn.sum(x, dim=-1, keepdim=True, fast_and_approximate_mode=True, compute_kernel_config=_config(device, "HiFi4"))
    assert ttnn.to_torch(out)[0, 0, :, 0].tolist() == [32.0] * 32
    accurate = ttnn.sum(x, dim=-1, keepdim=True)  # ttnn's default for float32: the vector engine, float32
    assert ttnn.to_torch(accurate)[0, 0, :, 0].tolist() == [32 * (1 + 2**-10)] * 32


def test_multiply_is_elementwise_srca_times_srcb():
    """ELWMUL.md: in0 in SrcA, in1 in SrcB; LoFi keeps a_hi * b_hi only: 2**-5 survives in SrcB's
    6 high bits, not in SrcA's 4; 2**-7 survives in neither."""
    lofi = numerics.ComputeConfig("LoFi", fp32_dest_acc_en=True)
    assert numerics.multiply(torch.tensor([A_LOW]), torch.tensor([B_LOW]), lofi).item() == 1.0
    assert numerics.multiply(torch.tensor([B_LOW]), torch.tensor([A_LOW]), lofi).item() == A_LOW


def test_exp_fast_approximation(device):
    """tt-llk ckernel_sfpu_exp.h fast mode: bits = round(369.3299 * x + 32500.818) << 15.
    x = 0: round(32500.818) = 32501 -> 0x3F7A8000 = 0.978...; x = 1: 32870 -> 0x40330000 = 2.796875."""
    x = torch.zeros(1, 1, 32, 32)
    x[0, 0, 0, 1] = 1.0
    out = ttnn.to_torch(ttnn.exp(_upload(device, x), fast_and_approximate_mode=True))
    bits = out.contiguous().view(torch.int32)[0, 0, 0, :2].tolist()
    assert bits == [32501 << 15, 32870 << 15]
    exact = ttnn.to_torch(ttnn.exp(_upload(device, x)))
    assert exact[0, 0, 0, :2].tolist() == [1.0, torch.exp(torch.tensor(1.0)).item()]


def test_softmax_without_numeric_stability_overflows(device):
    """numeric_stable=False skips the row-max subtraction: exp(100) overflows a float."""
    x = torch.zeros(1, 1, 32, 32)
    x[0, 0, 0, 0] = 100.0
    stable = ttnn.to_torch(ttnn.softmax(_upload(device, x), dim=-1, numeric_stable=True))
    unstable = ttnn.to_torch(ttnn.softmax(_upload(device, x), dim=-1, numeric_stable=False))
    assert stable[0, 0, 0, 0].item() == pytest.approx(1.0, abs=1e-2)
    assert not torch.isfinite(unstable[0, 0, 0]).all()


def test_unknown_argument_is_an_error(device):
    """An argument the harness does not model is refused, not dropped."""
    with pytest.raises(ShadowError, match="not understood by the harness"):
        one = _upload(device, _tile(1.0), ttnn.bfloat16)
        ttnn.add(one, one, fast_and_approximate_mode=False)  # round-to-nearest-even path: not modelled


def test_compute_config_changes_the_shadow(device):
    """The audit's finding, reversed: HiFi4 + fp32 accumulation and LoFi + BF16 accumulation differ."""
    torch.manual_seed(0)
    x, w = torch.randn(1, 1, 64, 96), torch.randn(1, 1, 96, 64) / 10
    precise = ttnn.to_torch(ttnn.matmul(_upload(device, x), _upload(device, w), compute_kernel_config=_config(device, "HiFi4")))
    cheap = ttnn.to_torch(ttnn.matmul(_upload(device, x), _upload(device, w), compute_kernel_config=_config(device, "LoFi", fp32=False)))
    exact = x.double() @ w.double()
    assert float((precise - exact).abs().max() / exact.abs().max()) < 2e-3  # TF32 operands
    assert float((cheap - exact).abs().max() / exact.abs().max()) > 1e-2  # 5 x 7 bit products, BF16 sums
