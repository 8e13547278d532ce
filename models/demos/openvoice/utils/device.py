# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Opening a device outside pytest (CLI, benchmarks, tools); under pytest the `device` fixture does it.

Plain ttnn, as in any tt-metal demo: one chip with `ttnn.open_device`. On a host without a card,
this repository's standalone environment makes that call open its mock Wormhole (tt-metal's mocked
cluster, `TT_METAL_MOCK_CLUSTER_DESC_PATH`); inside tt-metal it opens the card. Nothing here knows
how the mock is made: `is_mock_device` only reads tt-metal's own mock-cluster variable, so tools
can label mock figures ("host emulation, not device speed") and pick the mock's accuracy bars.
"""

from __future__ import annotations

import glob
import os

import ttnn

# tt-metal's usual size for conv models. Conv sliding-window configs go to DRAM
# (`config_tensors_in_dram`), so cached programs of many input lengths do not fill it.
L1_SMALL_SIZE = 16384
# The runners' traces (runner/converter_runner.py): up to 8 converter shapes, each a few MB of dispatch
# commands for ~800 programs; carved out of DRAM. Two command queues: inputs written on queue 1.
TRACE_REGION_SIZE = 64 << 20
NUM_COMMAND_QUEUES = 2
MOCK_CLUSTER_VARIABLE = "TT_METAL_MOCK_CLUSTER_DESC_PATH"  # tt-metal's: open a mocked cluster


def is_mock_device() -> bool:
    """Whether this process's devices are tt-metal's mocked cluster (no kernels run; values are emulated)."""
    return bool(os.environ.get(MOCK_CLUSTER_VARIABLE))


def device_available() -> bool:
    """A Tenstorrent card (``/dev/tenstorrent*``) or tt-metal's mocked cluster is there to open."""
    return is_mock_device() or bool(glob.glob("/dev/tenstorrent*"))


def open_device(l1_small_size: int = L1_SMALL_SIZE, chips: int = 1, **device_params) -> ttnn.Device | ttnn.MeshDevice:
    """Chip 0 (`chips` 1), or a 1 x `chips` mesh (2: an N300, data parallel), with the port's L1 small size; more
    `device_params` (trace_region_size, num_command_queues) go to ttnn."""
    if chips == 1:
        return ttnn.open_device(device_id=0, l1_small_size=l1_small_size, **device_params)
    available = ttnn.get_num_devices()
    if available < chips:
        raise RuntimeError(f"{chips} chips asked for (an N300's 1x{chips} mesh), this machine has {available}")
    return ttnn.open_mesh_device(ttnn.MeshShape(1, chips), l1_small_size=l1_small_size, **device_params)


def close_device(device: ttnn.Device | ttnn.MeshDevice) -> None:
    if device.get_num_devices() > 1:
        ttnn.close_mesh_device(device)
    else:
        ttnn.close_device(device)
