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
  ``@pytest.mark.parametrize("mesh_device", [(1, 2)], indirect=True)``;
* fixture ``device_is_mock`` (bool) for tests that choose thresholds;
* marker ``requires_device``: "needs a Tenstorrent device for kernel numerics/timing";
  skipped on the mock with that reason.

On the mock, shadow-golden execution (:mod:`tests.mock_device.shadow`) is active
for the lifetime of ``device`` / ``mesh_device``. With ``--device-mode real`` and
no card, everything needing a device skips with "no Tenstorrent device". The mock
environment is configured in ``pytest_configure``, before any test module can
import ttnn or touch the cluster (even a host-only bfloat8_b conversion
initialises it).
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.mock_device import device as device_module
from tests.mock_device.device import MODES, NO_DEVICE_REASON, MockOnRealHardwareError, NoDeviceError

REQUIRES_DEVICE_REASON = "needs a Tenstorrent device for kernel numerics/timing"

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


@pytest.fixture(scope="function")
def mesh_device(request: pytest.FixtureRequest, device_params: dict[str, Any]) -> Iterator[Any]:
    _require_device()
    shape = tuple(getattr(request, "param", (1, 2)))
    if shape[0] != 1:
        pytest.skip(f"mesh shape {shape}: only 1xN meshes are supported by this harness")
    if _resolved_mode == "mock" and device_module.mock_board() != "n300":
        pytest.skip(f"the mock {device_module.mock_board()} board has a single chip")
    if _resolved_mode == "real":
        import ttnn

        available = ttnn.get_num_devices()
        if available < shape[1]:
            pytest.skip(f"needs {shape[1]} Tenstorrent chips, {available} present")
    opened = device_module.open_device(_resolved_mode, num_devices=shape[1], **device_params)
    try:
        yield opened.device
    finally:
        device_module.close_device(opened.device)
