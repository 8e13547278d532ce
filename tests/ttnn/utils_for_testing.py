"""PCC helpers in the style of tt-metal's ``tests/ttnn/utils_for_testing.py``: ``comp_pcc`` (defined
in ``models/common/pcc.py``, shared with the product's golden checker), ``assert_with_pcc`` and
``pcc_for`` (mock or card bar)."""

from __future__ import annotations

from typing import Any

from models.common.pcc import comp_pcc

__all__ = ["assert_with_pcc", "comp_pcc", "pcc_for"]


def assert_with_pcc(expected: Any, actual: Any, pcc: float = 0.9999) -> float:
    """Assert equal shapes and PCC >= `pcc`; return the measured PCC."""
    expected_shape = tuple(getattr(expected, "shape", ()))
    actual_shape = tuple(getattr(actual, "shape", ()))
    assert expected_shape == actual_shape, f"shape mismatch: expected {expected_shape}, actual {actual_shape}"
    passed, value = comp_pcc(expected, actual, pcc)
    assert passed, f"PCC {value:.6f} is below the required {pcc}"
    return value


def pcc_for(device: Any, mock: float, real: float) -> float:
    """The PCC threshold for `device`: `mock` on the mock device (golden numerics), `real` on hardware."""
    from models.common.mock_device import is_mock

    return mock if is_mock(device) else real
