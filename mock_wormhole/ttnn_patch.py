# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Make plain ``ttnn.open_device`` open the mock Wormhole in this repository's environment.

Code under ``models/`` opens devices the way tt-metal code does: ``ttnn.open_device``,
``ttnn.CreateDevice``, ``ttnn.open_mesh_device`` (through the ``device`` / ``mesh_device``
fixtures, or directly in a CLI). On a card that is all there is. Here, :func:`install`
decides the mode once per process (``auto``: the card if ``/dev/tenstorrent*`` exists,
else the mock; ``$OPENVOICE_DEVICE`` or pytest's ``--device-mode`` override it) and, for
the mock, points tt-metal at the mocked cluster and wraps those ttnn entry points so
that opening a device also starts shadow-golden execution (values from Tenstorrent's
golden functions) and closing the last one stops it. Nothing in ``models/`` imports
this package.

Two ways in:

* ``.venv`` carries ``mock_wormhole.pth`` (written by ``scripts/create_env.sh``), which
  runs :func:`install_on_import` at interpreter start: it only registers an import hook,
  and :func:`install` runs when ttnn is first imported, so the CLI, the benchmarks and
  the tools open the mock here and the card there, unchanged;
* the root ``conftest.py`` calls :func:`install` in ``pytest_configure`` (also without
  the ``.pth``, e.g. under another interpreter).
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import sys
from typing import Any, Callable, NamedTuple

from loguru import logger

from mock_wormhole import device as device_module

_OPEN = ("open_device", "CreateDevice", "open_mesh_device")
_CLOSE = ("close_device", "CloseDevice", "close_mesh_device")
_patched = False


def _opening(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def open_(*args: Any, **kwargs: Any) -> Any:
        opened = function(*args, **kwargs)
        if device_module.is_mock():
            logger.info(f"mock Wormhole ({device_module.mock_board()} descriptor, no Tenstorrent card): {opened}")
            device_module.start_shadow(opened)
        return opened

    return open_


def _closing(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def close(device: Any, *args: Any, **kwargs: Any) -> Any:
        device_module.stop_shadow(device)
        return function(device, *args, **kwargs)

    return close


def patch_ttnn(ttnn: Any) -> None:
    """Wrap ttnn's device open/close entry points (idempotent)."""
    global _patched
    if _patched:
        return
    for name in _OPEN:
        setattr(ttnn, name, _opening(getattr(ttnn, name)))
    for name in _CLOSE:
        setattr(ttnn, name, _closing(getattr(ttnn, name)))
    _patched = True


def install(mode: str | None = None) -> str | None:
    """Resolve the device mode for this process and, on the mock, prepare tt-metal and patch ttnn.

    Returns "real", "mock", or None (a card was required and none is present). Must run before
    the first device open or host-side block-float conversion (tt-metal reads the cluster then).
    """
    try:
        resolved = device_module.prepare(mode)
    except device_module.NoDeviceError:
        return None
    if resolved == "mock":
        if "ttnn" in sys.modules:
            patch_ttnn(sys.modules["ttnn"])
        else:
            _PatchOnImport.register()
    return resolved


def _install_when_imported(ttnn: Any) -> None:
    """ttnn just finished importing: install the mode chosen so far (``$OPENVOICE_DEVICE`` or auto)."""
    if device_module.process_mode() is None:
        install()
    if device_module.is_mock():
        patch_ttnn(ttnn)


def install_on_import() -> None:
    """The ``.pth`` entry: :func:`install` once ttnn is imported (a process that never imports it pays nothing)."""
    if "ttnn" in sys.modules:
        install()
    else:
        _PatchOnImport.register()


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when ``ttnn`` is imported, wraps its loader so the module is patched once loaded."""

    @classmethod
    def register(cls) -> None:
        if not any(isinstance(finder, cls) for finder in sys.meta_path):
            sys.meta_path.insert(0, cls())

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "ttnn":
            return None
        sys.meta_path.remove(self)  # the real finders locate ttnn; this one is done after that
        spec = importlib.util.find_spec("ttnn")
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module: Any) -> None:
            exec_module(module)
            _install_when_imported(module)

        spec.loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


class OpenedDevice(NamedTuple):
    device: Any  # ttnn.MeshDevice (ttnn 0.81.1 returns a 1x1 MeshDevice for a single chip)
    is_mock: bool


def open_device(
    mode: str | None = None,
    *,
    l1_small_size: int = device_module.DEFAULT_L1_SMALL_SIZE,
    trace_region_size: int = device_module.DEFAULT_TRACE_REGION_SIZE,
    num_devices: int = 1,
    **device_params: Any,
) -> OpenedDevice:
    """Open a device as the harness's own tests do; returns ``(device, is_mock)``.

    ``num_devices=1`` opens one chip with ``ttnn.open_device``; ``num_devices=2``
    opens a 1x2 mesh (N300). Extra ``device_params`` go to ttnn (e.g.
    ``num_command_queues``, ``dispatch_core_config``). ttnn is patched first
    (:mod:`.ttnn_patch`), so on the mock shadow-golden execution runs from the open
    until :func:`close_device`.
    """
    resolved = install(mode)
    if resolved is None:
        raise device_module.NoDeviceError(device_module.NO_DEVICE_REASON)
    import ttnn

    params = dict(device_params, l1_small_size=l1_small_size, trace_region_size=trace_region_size)
    if num_devices == 1:
        device = ttnn.open_device(device_id=0, **params)
    else:
        board = device_module.mock_board()
        chips = 2 if board == "n300" else 1
        if resolved == "mock" and num_devices > chips:
            raise ValueError(f"the mock {board} board has {chips} chip(s), {num_devices} requested")
        device = ttnn.open_mesh_device(ttnn.MeshShape(1, num_devices), **params)
    return OpenedDevice(device, resolved == "mock")


def close_device(device: Any) -> None:
    """Close a device opened by :func:`open_device` (the patched ttnn stops its shadow execution)."""
    import ttnn

    if device.get_num_devices() > 1:
        ttnn.close_mesh_device(device)
    else:
        ttnn.close_device(device)
