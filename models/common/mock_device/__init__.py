"""Device test harness: run the port's ttnn code on a real Tenstorrent card or on a mock.

No machine building this project has a Tenstorrent card. This package runs the
real ttnn 0.81.1 library against tt-metal's mocked Wormhole cluster, with a stub
kernel toolchain, and recovers numbers through Tenstorrent's golden functions
("shadow execution"). The same tests run unchanged on an N150/N300.

Public API (see README.md):

* :func:`open_device` / :func:`close_device` / :func:`is_mock` -- open a device the
  way the tests do (benchmarks, CLI); mode from ``OPENVOICE_DEVICE``.
* :class:`ShadowExecution`, :func:`shadow_active` -- golden values on the mock.
* :func:`capture`, :func:`assert_no_host_round_trip` -- graph report of a forward.
* ``tests.mock_device.pytest_plugin`` (test-only, in tests/) -- fixtures ``device``, ``mesh_device``,
  ``device_params``, ``device_is_mock``; markers ``requires_device``, ``requires_mock``; option
  ``--device-mode``.
"""

from models.common.mock_device.device import (
    ENV_BOARD,
    ENV_MODE,
    NO_DEVICE_REASON,
    MockOnRealHardwareError,
    NoDeviceError,
    OpenedDevice,
    close_device,
    configure_mock_environment,
    is_mock,
    open_device,
    real_device_present,
    resolve_mode,
)
from models.common.mock_device.graph_report import GraphReport, assert_no_host_round_trip, capture
from models.common.mock_device.shadow import ShadowError, ShadowExecution
from models.common.mock_device.shadow import active as shadow_active

__all__ = [
    "ENV_BOARD",
    "ENV_MODE",
    "NO_DEVICE_REASON",
    "GraphReport",
    "MockOnRealHardwareError",
    "NoDeviceError",
    "OpenedDevice",
    "ShadowError",
    "ShadowExecution",
    "assert_no_host_round_trip",
    "capture",
    "close_device",
    "configure_mock_environment",
    "is_mock",
    "open_device",
    "real_device_present",
    "resolve_mode",
    "shadow_active",
]
