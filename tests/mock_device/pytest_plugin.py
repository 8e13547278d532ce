"""pytest plugin: tt-metal-style device fixtures that run on a real card or on the mock.

Enabled from the repository's top-level ``conftest.py``
(``pytest_plugins = ["tests.mock_device.pytest_plugin"]``). Provides:

* option ``--device-mode {auto,real,mock}`` (overrides ``$OPENVOICE_DEVICE``);
* fixture ``device_params`` (indirect parametrization, as in tt-metal:
  ``@pytest.mark.parametrize("device_params", [{"l1_small_size": 16384}], indirect=True)``);
* fixture ``device``: one chip, opened per test (re-opening is ~2 ms on the mock
  once the cluster exists), closed at teardown; ttnn 0.81.1 enables the program
  cache by default;
* fixture ``mesh_device``: a 1x2 mesh (N300); the shape can be overridden with
  ``@pytest.mark.parametrize("mesh_device", [(1, 2)], indirect=True)``, or with an
  int N (as tt-metal tests often pass), meaning a 1xN mesh;
* fixture ``device_is_mock`` (bool) for tests that choose thresholds;
* marker ``requires_device``: "needs a Tenstorrent device for kernel numerics/timing";
  skipped on the mock with that reason;
* marker ``requires_mock("why")``: tests of the mock itself (shadow execution,
  NaN-filled ``ttnn.empty``); skipped on real hardware with "only on the mock
  device: why".

Every skip reason here is one the CI guard in the top-level ``conftest.py``
allows ("no Tenstorrent device", "needs a Tenstorrent device ...", "only on the
mock device ..."), so a CI run on an N150/N300 or on the mock N150 stays green.

On the mock, shadow-golden execution (:mod:`models.common.mock_device.shadow`) is active
for the lifetime of ``device`` / ``mesh_device``. With ``--device-mode real`` and
no card, everything needing a device skips with "no Tenstorrent device". The mock
environment is configured in ``pytest_configure``, before any test module can
import ttnn or touch the cluster (even a host-only bfloat8_b conversion
initialises it).
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from models.common.mock_device import device as device_module
from models.common.mock_device.device import MODES, NO_DEVICE_REASON, MockOnRealHardwareError, NoDeviceError

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
    try:
        _resolved_mode = device_module.prepare(config.getoption("--device-mode"))
    except NoDeviceError:
        _resolved_mode = None
    except MockOnRealHardwareError as error:
        raise pytest.UsageError(str(error)) from error


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


def _require_device() -> None:
    if _resolved_mode is None:
        pytest.skip(NO_DEVICE_REASON)


@pytest.fixture(scope="function")
def device_params(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(getattr(request, "param", {}) or {})


@pytest.fixture(scope="function")
def device_is_mock() -> bool:
    _require_device()
    return _resolved_mode == "mock"


@pytest.fixture(scope="function")
def device(device_params: dict[str, Any]) -> Iterator[Any]:
    _require_device()
    opened = device_module.open_device(_resolved_mode, num_devices=1, **device_params)
    try:
        yield opened.device
    finally:
        device_module.close_device(opened.device)


def mesh_shape(param: Any) -> tuple[int, int]:
    """A ``mesh_device`` indirect parameter as (rows, cols): an int N (tt-metal style) is (1, N)."""
    if isinstance(param, int):
        return (1, param)
    shape = tuple(int(d) for d in param)
    if len(shape) != 2:
        raise ValueError(f"mesh_device parameter must be an int N or a (rows, cols) pair, got {param!r}")
    return shape


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


@pytest.fixture(scope="function")
def mesh_device(request: pytest.FixtureRequest, device_params: dict[str, Any]) -> Iterator[Any]:
    _require_device()
    shape = mesh_shape(getattr(request, "param", (1, 2)))
    reason = mesh_skip_reason(shape, _resolved_mode)
    if reason is not None:
        pytest.skip(reason)
    opened = device_module.open_device(_resolved_mode, num_devices=shape[1], **device_params)
    try:
        yield opened.device
    finally:
        device_module.close_device(opened.device)
