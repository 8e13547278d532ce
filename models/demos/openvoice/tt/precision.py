# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The precision plan: math fidelity, destination accumulation and weight storage of every module's matmuls and convs.

One entry per module (`PLAN`); each module builds its compute-kernel config from its entry once, at
construction (`compute_config(device, module)`). The entries are the cheapest configuration that holds
the module's accuracy bars, measured under the mock's Wormhole numerics (mock_wormhole/numerics.py:
fidelity phases, TF32/BF16 operands, BF16 or float32 Dst) by `tools/precision_plan.py`; the table of
every option tried, with its PCC and max error, is in TRADEOFFS.md "TTNN: precision".

The float32 modules that decide MeloTTS's durations (text encoder, both duration predictors) keep
float32 on the matrix engine by splitting each product into exact BF16 products at HiFi4 with fp32
accumulation (`commons.exact_products_config`, `split_bf16`): their `PLAN` entry only configures the
matmuls whose operands are exact anyway (the spline's one-hot bin search).

Why fp32 accumulation wherever operands are inexact: with BF16 Dst every 16-deep partial sum is
rounded to 8 bits (and a float32 operand is only read as BF16): LoFi with BF16 Dst measured 5-34x
the max error of HiFi3 with fp32 Dst on every such module but the flows, whose chained golden is
dominated by the posterior's error (TRADEOFFS.md). Why HiFi3 and not HiFi4: ttnn 0.81.1 warns that on Wormhole HiFi4 with fp32
accumulation can be less accurate than HiFi3 (a hardware bug the emulation does not model); for
BF16 operands HiFi3 differs from HiFi4 only by the a_lo * b_lo phase (2**-11 of a product).

Weights: `Precision.weights` is the storage of the conv / linear weights of the modules that keep
bf16 weights (posterior encoder, flow, generator, transformer flow, MeloTTS decoder): bfloat16 or
bfloat8_b (a shared exponent per 16 values, 7-bit mantissas: half the DRAM bytes). The float32
modules keep float32 weights whatever the entry says: the duration modules because their products
must be exact (above), the spectrogram's DFT basis and the reference encoder because the clone
embedding is read at 1e-4 (their docstrings); `applies_to_weights` names the modules it reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import ttnn

FIDELITIES = ("LoFi", "HiFi2", "HiFi3", "HiFi4")


WEIGHT_DTYPES = ("bfloat16", "bfloat8_b")
# the modules whose conv / linear weights are stored at `Precision.weights` (the others keep float32)
BF16_WEIGHT_MODULES = ("posterior_encoder", "flow", "generator", "transformer_flow", "melo_decoder")


@dataclass(frozen=True)
class Precision:
    fidelity: str  # one of FIDELITIES
    fp32_acc: bool  # fp32_dest_acc_en (and packer_l1_acc with it)
    weights: str = "bfloat16"  # one of WEIGHT_DTYPES: conv / linear weight storage (BF16_WEIGHT_MODULES)

    def __post_init__(self) -> None:
        if self.fidelity not in FIDELITIES:
            raise ValueError(f"fidelity must be one of {FIDELITIES}, got {self.fidelity!r}")
        if self.weights not in WEIGHT_DTYPES:
            raise ValueError(f"weights must be one of {WEIGHT_DTYPES}, got {self.weights!r}")

    @property
    def weights_dtype(self) -> ttnn.DataType:
        return getattr(ttnn, self.weights)

    def conv_arguments(self, device: ttnn.Device) -> dict:
        """`compute=` and `weights_dtype=` for a module that stores bf16-class weights."""
        return dict(compute=self.config(device), weights_dtype=self.weights_dtype)

    def config(self, device: ttnn.Device) -> ttnn.DeviceComputeKernelConfig:
        return ttnn.init_device_compute_kernel_config(
            device.arch(),
            math_fidelity=getattr(ttnn.MathFidelity, self.fidelity),
            math_approx_mode=False,
            fp32_dest_acc_en=self.fp32_acc,
            packer_l1_acc=self.fp32_acc,
        )

    def __str__(self) -> str:
        weights = "" if self.weights == "bfloat16" else f", {self.weights} weights"
        return f"{self.fidelity}{' + fp32 acc' if self.fp32_acc else ', bf16 acc'}{weights}"


PRECISE = Precision("HiFi3", fp32_acc=True)

# module -> its precision; measured under the emulation (TRADEOFFS.md "TTNN: precision"): the cheapest option that
# holds the bars, except where a cheaper one holds them but buys nothing, priced by the device-time model
# (tools/device_model.py --rank, modelled, not measured; converter 5 s): flow HiFi2 with BF16 accumulation would
# save 0.08 ms of 34 ms of kernels (0.2 %) for 17 % more flow error, bfloat8_b weights at most 0.15 ms (0.4 %):
# the converter's DRAM traffic is activations, not weights. The generator's HiFi2 (5 %) fails its own module bar.
PLAN: dict[str, Precision] = {
    "spectrogram": PRECISE,
    "reference_encoder": PRECISE,
    "posterior_encoder": PRECISE,
    "flow": PRECISE,
    "generator": PRECISE,
    # float32 modules: their products run as exact split-BF16 products (commons.exact_products_config); the
    # entry only configures matmuls of exact operands (0/1 by 0/+-1: the spline's bin search), exact at LoFi
    "text_encoder": Precision("LoFi", fp32_acc=False),
    "duration_predictor": Precision("LoFi", fp32_acc=False),
    "stochastic_duration_predictor": Precision("LoFi", fp32_acc=False),
    "transformer_flow": PRECISE,
    "melo_decoder": PRECISE,
}


def precision_of(module: str, plan: dict[str, Precision] | None = None) -> Precision:
    """`module`'s entry (a `PLAN` key) in `plan` (default: `PLAN`)."""
    plan = PLAN if plan is None else plan
    if module not in plan:
        raise KeyError(f"no precision planned for module {module!r}; modules: {sorted(plan)}")
    return plan[module]


def compute_config(
    device: ttnn.Device, module: str, plan: dict[str, Precision] | None = None
) -> ttnn.DeviceComputeKernelConfig:
    """The compute-kernel config of `module` (a `PLAN` key) from `plan` (default: `PLAN`)."""
    return precision_of(module, plan).config(device)
