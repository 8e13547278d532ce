"""Pearson correlation (PCC) as tt-metal computes it (``comp_pcc`` of its ``tests/ttnn/utils_for_testing.py``).

Product tools (``tools/check_golden.py``) and the tests share it; the tests import it through
``tests/ttnn/utils_for_testing.py`` as tt-metal tests do.

``comp_pcc`` follows tt-metal's conventions for awkward inputs:

* both all-NaN -> pass (1.0); exactly one all-NaN -> fail (0.0);
* exactly one of the two all-zero -> fail (0.0);
* NaN/Inf are compared by position and value (same non-finite pattern required),
  then excluded from the correlation;
* exactly equal tensors -> 1.0; constant tensors (no variance, so no correlation)
  -> 1.0 if they are close, else 0.0.
"""

from __future__ import annotations

from typing import Any

import torch


def _as_float64(tensor: Any) -> torch.Tensor:
    tensor = tensor if isinstance(tensor, torch.Tensor) else torch.as_tensor(tensor)
    return tensor.detach().to(torch.float64).flatten()


def comp_pcc(golden: Any, calculated: Any, pcc: float = 0.99) -> tuple[bool, float]:
    """Pearson correlation of two tensors; returns (passes, value)."""
    golden, calculated = _as_float64(golden), _as_float64(calculated)
    if golden.numel() != calculated.numel():
        raise ValueError(f"comp_pcc: {golden.numel()} vs {calculated.numel()} elements")

    golden_nan, calculated_nan = torch.isnan(golden), torch.isnan(calculated)
    if golden_nan.all() and calculated_nan.all():
        return True, 1.0
    if golden_nan.all() or calculated_nan.all():
        return False, 0.0
    if bool(golden.any()) != bool(calculated.any()):  # one of them is all zeros
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


