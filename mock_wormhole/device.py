# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Choosing and opening a Tenstorrent device: the real card when present, else the mock.

Mode, from strongest to weakest: the ``mode`` argument (the pytest plugin passes
``--device-mode``), the ``OPENVOICE_DEVICE`` environment variable, ``auto``.

* ``auto``: a real device when ``/dev/tenstorrent*`` exists, otherwise the mock.
* ``mock``: the mock; an error when a real card is present (a mock run there would
  hide the numbers that matter).
* ``real``: the card; :class:`NoDeviceError` ("no Tenstorrent device") without one.

The mock is tt-metal's own mocked cluster (``TT_METAL_MOCK_CLUSTER_DESC_PATH``), a
private runtime root with a stub kernel compiler (:mod:`.runtime_root`) and a
private JIT cache. Environment constraints found on ttnn 0.81.1:

* The three ``TT_METAL_*`` variables are read when tt-metal creates its context:
  at the first device open, or at the first host-side bfloat8_b/bfloat4_b
  conversion (which needs the cluster too), not at ``import ttnn``. Setting them
  after the import works; the pytest plugin sets them at configure time, before
  any test code runs.
* ``TTNN_CONFIG_OVERRIDES`` is not needed: operation hooks only need
  ``ttnn.CONFIG.enable_fast_runtime_mode = False``, which each operation checks
  at call time, so :mod:`.shadow` flips it while active.
* A process holds ONE cluster: the descriptor used by the first open stays for
  the process lifetime (opening an N150 and later an N300 crashes inside UMD).
  The mock therefore defaults to the N300 descriptor (``OPENVOICE_MOCK_BOARD``,
  ``n300`` or ``n150``): a single device is chip 0 of it (same 8x8 worker grid as
  an N150) and a 1x2 mesh is both chips.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from loguru import logger

from mock_wormhole.cluster import write_descriptor
from mock_wormhole.runtime_root import jit_cache_dir, mock_base_dir, real_device_paths, runtime_root

ENV_MODE = "OPENVOICE_DEVICE"
ENV_BOARD = "OPENVOICE_MOCK_BOARD"
MODES = ("auto", "real", "mock")
NO_DEVICE_REASON = "no Tenstorrent device"
DEFAULT_L1_SMALL_SIZE = 16384
DEFAULT_TRACE_REGION_SIZE = 0

ResolvedMode = Literal["real", "mock"]


class NoDeviceError(RuntimeError):
    """A real device was required but none is present."""


class MockOnRealHardwareError(RuntimeError):
    """The mock was requested on a host with a Tenstorrent card."""


# Process-wide state: UMD holds one cluster per process.
_process_mode: ResolvedMode | None = None
_mock_board: str | None = None
_shadow: Any = None  # the ShadowExecution shared by the mock devices open_device opened
_shadow_users: set[int] = set()  # id() of those devices
_opened_any = False  # a mock device was opened: the cluster is fixed for the process
_MOCK_VARIABLES = ("TT_METAL_RUNTIME_ROOT", "TT_METAL_CACHE", "TT_METAL_MOCK_CLUSTER_DESC_PATH")


def real_device_present() -> bool:
    return bool(real_device_paths())


def requested_mode(mode: str | None = None) -> str:
    """The requested mode: the argument, else ``$OPENVOICE_DEVICE``, else ``auto``."""
    value = (mode or os.environ.get(ENV_MODE) or "auto").strip().lower()
    if value not in MODES:
        raise ValueError(f"device mode must be one of {MODES}, got {value!r} (from {ENV_MODE} or --device-mode)")
    return value


def resolve_mode(mode: str | None = None) -> ResolvedMode:
    """Decide between the real device and the mock; see the module docstring."""
    value = requested_mode(mode)
    present = real_device_present()
    if value == "mock" and present:
        raise MockOnRealHardwareError(
            f"mock device requested but a Tenstorrent device is present ({', '.join(real_device_paths())}); "
            f"use {ENV_MODE}=real or auto"
        )
    if value == "real" and not present:
        raise NoDeviceError(NO_DEVICE_REASON)
    if value == "auto":
        return "real" if present else "mock"
    return value  # type: ignore[return-value]


def mock_board() -> str:
    return (os.environ.get(ENV_BOARD) or "n300").strip().lower()


def configure_mock_environment(board: str | None = None) -> dict[str, str]:
    """Point tt-metal at the mock cluster, the stub toolchain and a private cache.

    Idempotent; safe before or after ``import ttnn`` as long as no device was opened
    yet. Refuses to run on a host with a real card. Returns the variables set.
    """
    global _mock_board
    if real_device_present():
        raise MockOnRealHardwareError(
            f"refusing to configure the mock device: a Tenstorrent device is present ({', '.join(real_device_paths())})"
        )
    board = (board or mock_board()).lower()
    if _mock_board is not None and board != _mock_board:
        raise RuntimeError(
            f"this process already configured the mock {_mock_board} cluster; tt-metal cannot switch to {board} "
            "within one process (run it in a separate process)"
        )
    base = mock_base_dir()
    root = runtime_root(base)
    env = {
        "TT_METAL_RUNTIME_ROOT": str(root),
        "TT_METAL_CACHE": str(jit_cache_dir(base)),
        "TT_METAL_MOCK_CLUSTER_DESC_PATH": str(write_descriptor(board, base)),
    }
    preset = os.environ.get("TT_METAL_MOCK_CLUSTER_DESC_PATH")
    if preset and preset != env["TT_METAL_MOCK_CLUSTER_DESC_PATH"]:
        logger.warning(f"overriding TT_METAL_MOCK_CLUSTER_DESC_PATH={preset} with the {board} mock descriptor")
    os.environ.update(env)
    _mock_board = board
    return env


def _set_process_mode(mode: ResolvedMode) -> None:
    """Remember the mode; it may change until the first device opens (UMD keeps one cluster per process)."""
    global _process_mode
    if _process_mode is not None and _process_mode != mode:
        if _opened_any:
            raise RuntimeError(f"this process already opened a {_process_mode} device; cannot open a {mode} one")
        if _process_mode == "mock":
            for name in _MOCK_VARIABLES:
                os.environ.pop(name, None)
    _process_mode = mode


def prepare(mode: str | None = None) -> ResolvedMode:
    """Resolve the mode and, for the mock, configure the environment. Call before opening devices."""
    resolved = resolve_mode(mode)
    if resolved == "mock":
        configure_mock_environment()
    _set_process_mode(resolved)
    return resolved


def start_shadow(device: Any) -> None:
    """One shadow execution serves every open mock device (e.g. `device` and `mesh_device` in one test)."""
    global _shadow, _opened_any
    from mock_wormhole.shadow import ShadowExecution

    _opened_any = True
    if not _shadow_users:
        _shadow = ShadowExecution().start()
    _shadow_users.add(id(device))


def stop_shadow(device: Any) -> None:
    global _shadow
    if id(device) not in _shadow_users:
        return
    _shadow_users.discard(id(device))
    if not _shadow_users and _shadow is not None:
        _shadow.stop()
        _shadow = None


def process_mode() -> ResolvedMode | None:
    """The mode :func:`prepare` resolved in this process, None before."""
    return _process_mode


def is_mock(device: Any = None) -> bool:
    """Whether `device` (any device of this process) is the mock.

    UMD holds one cluster per process, so the answer is per process: True once
    the mock was configured here, False for real hardware.
    """
    if _process_mode is not None:
        return _process_mode == "mock"
    return "TT_METAL_MOCK_CLUSTER_DESC_PATH" in os.environ and not real_device_present()
