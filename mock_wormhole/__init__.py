# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Mock Wormhole: run the port's ttnn code on a host without a Tenstorrent card.

This repository's standalone infrastructure, not a tt-metal module: nothing under
``models/`` imports it. It runs the real ttnn 0.81.1 library against tt-metal's
mocked Wormhole cluster with a stub kernel toolchain, and recovers numbers through
Tenstorrent's golden functions ("shadow execution"). With a card present it stays
out of the way, so the same code and tests run unchanged on an N150/N300.

* :func:`install` (root ``conftest.py``; ``.venv``'s ``mock_wormhole.pth``): resolve the
  mode and make ``ttnn.open_device`` / ``CreateDevice`` / ``open_mesh_device`` open the mock;
* :func:`open_device` / :func:`close_device` / :func:`is_mock`: the harness's own tests;
* :class:`ShadowExecution`, :func:`shadow_active`: golden values on the mock.

See README.md.
"""

from mock_wormhole.device import (
    ENV_BOARD,
    ENV_MODE,
    NO_DEVICE_REASON,
    MockOnRealHardwareError,
    NoDeviceError,
    configure_mock_environment,
    is_mock,
    real_device_present,
    resolve_mode,
)
from mock_wormhole.ttnn_patch import OpenedDevice, close_device, install, open_device

# The shadow machinery (torch, ttnn) loads on first use: this package is imported at every interpreter start.
_SHADOW_NAMES = {"ShadowError": "ShadowError", "ShadowExecution": "ShadowExecution", "shadow_active": "active"}


def __getattr__(name: str):
    if name in _SHADOW_NAMES:
        from mock_wormhole import shadow

        return getattr(shadow, _SHADOW_NAMES[name])
    raise AttributeError(name)

__all__ = [
    "ENV_BOARD",
    "ENV_MODE",
    "NO_DEVICE_REASON",
    "MockOnRealHardwareError",
    "NoDeviceError",
    "OpenedDevice",
    "ShadowError",
    "ShadowExecution",
    "close_device",
    "configure_mock_environment",
    "install",
    "is_mock",
    "open_device",
    "real_device_present",
    "resolve_mode",
    "shadow_active",
]
