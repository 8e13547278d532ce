# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Standalone stand-in for tt-metal's ``models/common/utility_functions.py`` (this repository's root only).

Inside a tt-metal checkout the model imports tt-metal's own file; here this one supplies the
same names with the same signatures and return values (tt-metal commit a19b16aa83be, see
TRADEOFFS.md "tt-metal interfaces"): ``comp_pcc`` -> ``(passed, pcc)``, ``comp_allclose`` /
``comp_equal`` -> ``(passed, "Max ATOL Delta: ..., Max RTOL Delta: ...")``, the architecture
predicates and the ``run_for_*`` / ``skip_for_*`` decorator factories.

``comp_pcc`` follows tt-metal's conventions for awkward inputs: both all-NaN -> (True, 1.0);
exactly one all-NaN or exactly one all-zero -> (False, 0.0); equal tensors -> (True, 1.0).
Beyond tt-metal (which masks NaN/Inf to 0 before correlating), non-finite values must sit at
the same positions with the same values, and constant tensors compare by closeness.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from loguru import logger


def _as_float64(tensor: Any) -> torch.Tensor:
    tensor = tensor if isinstance(tensor, torch.Tensor) else torch.as_tensor(tensor)
    return tensor.detach().to(torch.float64).flatten()


def comp_pcc(golden: Any, calculated: Any, pcc: float = 0.99) -> tuple[bool, float]:
    """Pearson correlation of two tensors: ``(pcc_value >= pcc, pcc_value)``."""
    golden, calculated = _as_float64(golden), _as_float64(calculated)
    if golden.numel() != calculated.numel():
        raise ValueError(f"comp_pcc: {golden.numel()} vs {calculated.numel()} elements")

    golden_nan, calculated_nan = torch.isnan(golden), torch.isnan(calculated)
    if golden_nan.all() and calculated_nan.all():
        logger.warning("Both tensors are 'nan'")
        return True, 1.0
    if golden_nan.all() or calculated_nan.all():
        logger.error("One tensor is all nan, the other is not.")
        return False, 0.0
    if bool(golden.any()) != bool(calculated.any()):
        logger.error("One tensor is all zero")
        return False, 0.0

    golden_finite, calculated_finite = torch.isfinite(golden), torch.isfinite(calculated)
    if not torch.equal(golden_finite, calculated_finite):
        return False, 0.0
    nonfinite = ~golden_finite
    if not torch.equal(torch.nan_to_num(golden[nonfinite]), torch.nan_to_num(calculated[nonfinite])):
        return False, 0.0  # same positions but e.g. +inf vs -inf or inf vs nan
    golden, calculated = golden[golden_finite], calculated[golden_finite]

    if torch.equal(golden, calculated):
        return True, 1.0
    if golden.numel() < 2 or golden.std() == 0 or calculated.std() == 0:
        value = 1.0 if torch.allclose(golden, calculated, rtol=1e-2, atol=1e-3) else 0.0
        return value >= pcc, value
    value = float(torch.corrcoef(torch.stack([golden, calculated]))[0, 1])
    return value >= pcc, value


def _deltas(golden: torch.Tensor, calculated: torch.Tensor) -> str:
    golden, calculated = golden.double(), calculated.double()
    atol_delta = torch.max(torch.abs(golden - calculated)).item()
    rtol_delta = torch.max(torch.abs(golden - calculated) / torch.abs(calculated)).item()
    return f"Max ATOL Delta: {atol_delta}, Max RTOL Delta: {rtol_delta}"


def comp_allclose(golden: torch.Tensor, calculated: torch.Tensor, rtol: float = 1e-05, atol: float = 1e-08) -> tuple[bool, str]:
    """``(torch.allclose(golden, calculated, rtol, atol, equal_nan=True), deltas message)``."""
    if golden.dtype != calculated.dtype:
        calculated = calculated.type(golden.dtype)
    return torch.allclose(golden, calculated, rtol, atol, True), _deltas(golden, calculated)


def comp_equal(golden: torch.Tensor, calculated: torch.Tensor) -> tuple[bool, str]:
    """``(torch.equal(golden, calculated), deltas message)``."""
    if golden.dtype != calculated.dtype:
        calculated = calculated.type(golden.dtype)
    return torch.equal(golden, calculated), _deltas(golden, calculated)


def _arch_name() -> str:
    import ttnn

    return ttnn.get_arch_name()


def is_grayskull() -> bool:
    return "grayskull" in _arch_name()


def is_wormhole_b0() -> bool:
    return "wormhole_b0" in _arch_name()


def is_blackhole() -> bool:
    return "blackhole" in _arch_name()


def run_for_wormhole_b0(reason_str: str = "only runs for Wormhole B0") -> pytest.MarkDecorator:
    """Decorator factory (``@run_for_wormhole_b0()``): skip unless the device is a Wormhole B0."""
    return pytest.mark.skipif(not is_wormhole_b0(), reason=reason_str)


def skip_for_grayskull(reason_str: str = "not working for Grayskull") -> pytest.MarkDecorator:
    """Decorator factory (``@skip_for_grayskull()``): skip on a Grayskull."""
    return pytest.mark.skipif(is_grayskull(), reason=reason_str)


def skip_for_blackhole(reason_str: str = "not working for Blackhole") -> pytest.MarkDecorator:
    """Decorator factory (``@skip_for_blackhole()``): skip on a Blackhole."""
    return pytest.mark.skipif(is_blackhole(), reason=reason_str)
