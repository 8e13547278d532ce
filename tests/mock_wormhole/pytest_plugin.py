# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""pytest plugin of the mock Wormhole harness, loaded by the root ``conftest.py``: everything the
tt-metal-shaped fixtures there need to run on a card or on the mock.

* option ``--device-mode {auto,real,mock}`` (overrides ``$OPENVOICE_DEVICE``), resolved in
  ``pytest_configure`` by :func:`mock_wormhole.install` before any test module imports ttnn or
  touches the cluster (even a host-only bfloat8_b conversion initialises it); a requested mode is
  exported to ``$OPENVOICE_DEVICE`` so subprocesses (CLI tests, script modes) follow it;
* :func:`resolved_mode`, :func:`mesh_shape`, :func:`mesh_skip_reason` for the ``device`` /
  ``mesh_device`` fixtures;
* for the harness's own tests (tests/mock_wormhole): fixture ``device_is_mock``, markers
  ``requires_device`` ("needs a Tenstorrent device for kernel numerics/timing", skipped on the
  mock) and ``requires_mock("why")`` (skipped on real hardware with "only on the mock device: why").
  The model's tests use neither: they run inside tt-metal, which has no mock.

Every skip reason here is one the CI guard (tests/ci_skip_guard.py) allows.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

import mock_wormhole
from mock_wormhole import device as device_module
from mock_wormhole.device import MODES, NO_DEVICE_REASON, MockOnRealHardwareError

REQUIRES_DEVICE_REASON = "needs a Tenstorrent device for kernel numerics/timing"
REQUIRES_MOCK_REASON = "only on the mock device"  # + ": <why>" from the marker's argument

_resolved_mode: str | None = None  # "real", "mock", or None (real requested, none present)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--device-mode",
        choices=MODES,
        default=None,
        help="auto (default): the Tenstorrent card if present, else the mock; mock: force the mock; "
        "real: require the card (device tests skip without one). Overrides $OPENVOICE_DEVICE.",
    )


def pytest_configure(config: pytest.Config) -> None:
    global _resolved_mode
    config.addinivalue_line("markers", f"requires_device: {REQUIRES_DEVICE_REASON}")
    config.addinivalue_line(
        "markers", f"requires_mock(why): tests of the mock itself; skip on real hardware with '{REQUIRES_MOCK_REASON}: why'"
    )
    requested = config.getoption("--device-mode")
    try:
        _resolved_mode = mock_wormhole.install(requested)
    except MockOnRealHardwareError as error:
        raise pytest.UsageError(str(error)) from error
    if requested:
        os.environ[device_module.ENV_MODE] = requested


def resolved_mode() -> str | None:
    """"real", "mock", or None (a card was required and none is present)."""
    return _resolved_mode


def pytest_report_header(config: pytest.Config) -> str:
    mode = _resolved_mode or f"real requested, {NO_DEVICE_REASON}"
    board = f" ({device_module.mock_board()} cluster descriptor)" if _resolved_mode == "mock" else ""
    return f"openvoice-ttnn device mode: {mode}{board}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("requires_device") is not None:
        if _resolved_mode == "mock":
            pytest.skip(REQUIRES_DEVICE_REASON)
        if _resolved_mode is None:
            pytest.skip(NO_DEVICE_REASON)
    mock_marker = item.get_closest_marker("requires_mock")
    if mock_marker is not None and _resolved_mode != "mock":
        why = mock_marker.args[0] if mock_marker.args else mock_marker.kwargs.get("reason", "")
        pytest.skip(f"{REQUIRES_MOCK_REASON}: {why}" if why else REQUIRES_MOCK_REASON)


def require_device() -> None:
    """Skip the calling fixture with \"no Tenstorrent device\" when a card was required and none is present."""
    if _resolved_mode is None:
        pytest.skip(NO_DEVICE_REASON)


@pytest.fixture(scope="function")
def device_is_mock() -> bool:
    require_device()
    return _resolved_mode == "mock"


def mesh_shape(param: Any) -> tuple[int, int]:
    """A ``mesh_device`` indirect parameter as (rows, cols): an int N (tt-metal style) is (1, N)."""
    if isinstance(param, int):
        return (1, param)
    shape = tuple(int(d) for d in param)
    if len(shape) != 2:
        raise ValueError(f"mesh_device parameter must be an int N or a (rows, cols) pair, got {param!r}")
    return shape


def available_chips() -> int:
    """Chips this session can open: the mock board's, or the cards'."""
    if _resolved_mode == "mock":
        return 2 if device_module.mock_board() == "n300" else 1
    import ttnn

    return ttnn.get_num_devices()


def mesh_skip_reason(shape: tuple[int, int], mode: str | None) -> str | None:
    """Why a ``shape`` mesh cannot be opened in ``mode`` (worded as CI-allowed skips), or None."""
    if mode is None:
        return NO_DEVICE_REASON
    if shape[0] != 1:  # a 2D mesh needs a Galaxy/T3000-class system; this harness opens 1xN only
        return f"needs a Tenstorrent device with a {shape[0]}x{shape[1]} mesh (this harness opens 1xN meshes only)"
    if mode == "mock":
        board = device_module.mock_board()
        chips = 2 if board == "n300" else 1
        if chips < shape[1]:
            return f"needs a Tenstorrent device with {shape[1]} chips (the mock {board} board has {chips})"
        return None
    import ttnn

    available = ttnn.get_num_devices()
    if available < shape[1]:
        return f"needs a Tenstorrent device with {shape[1]} chips ({available} present)"
    return None
