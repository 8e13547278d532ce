# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Standalone stand-in for tt-metal's ``tests/ttnn/utils_for_testing.py`` (this repository's root only).

Same names, signatures and return values as tt-metal's (commit 019b681e59da, see TRADEOFFS.md
"tt-metal interfaces"): ``assert_with_pcc(expected, actual, pcc=0.9999)`` asserts equal shapes
and the PCC and returns ``(passed, pcc_value)``; ``check_with_pcc`` returns the same pair without
asserting; ``assert_allclose`` / ``assert_equal`` return ``(passed, message)``. ttnn tensors are
read back with ``ttnn.to_torch`` first, as tt-metal does.
"""

from __future__ import annotations

from typing import Any

from models.common.utility_functions import comp_allclose, comp_equal, comp_pcc

__all__ = ["assert_allclose", "assert_equal", "assert_with_pcc", "check_with_pcc", "comp_pcc"]


def _to_torch(tensor: Any) -> Any:
    import ttnn

    return ttnn.to_torch(tensor) if isinstance(tensor, ttnn.Tensor) else tensor


def _shape_message(expected: Any, actual: Any) -> str:
    return f"list(expected_pytorch_result.shape)={list(expected.shape)} vs list(actual_pytorch_result.shape)={list(actual.shape)}"


def assert_with_pcc(expected_pytorch_result: Any, actual_pytorch_result: Any, pcc: float = 0.9999) -> tuple[bool, float]:
    """Assert equal shapes and PCC >= `pcc`; return ``(passed, pcc_value)``."""
    expected, actual = _to_torch(expected_pytorch_result), _to_torch(actual_pytorch_result)
    assert list(expected.shape) == list(actual.shape), _shape_message(expected, actual)
    pcc_passed, pcc_message = comp_pcc(expected, actual, pcc)
    assert pcc_passed, pcc_message
    return pcc_passed, pcc_message


def check_with_pcc(expected_pytorch_result: Any, actual_pytorch_result: Any, pcc: float = 0.9999) -> tuple[bool, Any]:
    """Like `assert_with_pcc` without asserting: ``(False, shape message)`` or ``comp_pcc``'s pair."""
    expected, actual = _to_torch(expected_pytorch_result), _to_torch(actual_pytorch_result)
    if list(expected.shape) != list(actual.shape):
        return False, _shape_message(expected, actual)
    return comp_pcc(expected, actual, pcc)


def assert_allclose(expected_result: Any, actual_result: Any, rtol: float = 1e-05, atol: float = 1e-08) -> tuple[bool, str]:
    expected, actual = _to_torch(expected_result), _to_torch(actual_result)
    assert list(expected.shape) == list(actual.shape), _shape_message(expected, actual)
    allclose_passed, allclose_message = comp_allclose(expected, actual, rtol, atol)
    assert allclose_passed, allclose_message
    return allclose_passed, allclose_message


def assert_equal(expected_pytorch_result: Any, actual_pytorch_result: Any) -> tuple[bool, str]:
    expected, actual = _to_torch(expected_pytorch_result), _to_torch(actual_pytorch_result)
    assert list(expected.shape) == list(actual.shape), _shape_message(expected, actual)
    equal_passed, equal_message = comp_equal(expected, actual)
    assert equal_passed, equal_message
    return equal_passed, equal_message
