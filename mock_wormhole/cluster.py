# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""UMD cluster descriptors for mocked Wormhole boards.

`TT_METAL_MOCK_CLUSTER_DESC_PATH=<yaml>` makes tt-metal mock every driver call
and take the chip topology from a UMD cluster descriptor instead of probing
PCIe. We generate the two boards this project targets rather than committing
YAML files, so the content is documented here, next to the code that uses it:

* N150: one wormhole_b0 chip with MMIO.
* N300: two wormhole_b0 chips; chip 0 has MMIO, chip 1 is reached over the two
  on-board ethernet links (chip 0 channels 8/9 <-> chip 1 channels 0/1).

The format follows tt-umd's `tests/cluster_descriptor_examples/`. Every chip has
one harvested tensix row (8x8 worker grid). Production N300 chips have two, but
with two, ttnn 0.81.1 sizes programs for an 8x8 grid (ethernet dispatch) while its
placement validation allows 8x7, so every eltwise op fails with
"WorkUnitSpec ... out of bounds"; UMD only warns about the N300 mask
("Board n300 expects 2 units").
"""

from __future__ import annotations

import os
from pathlib import Path

# UMD derives the board type from bits 36.. of the id (0x18: n150, 0x14: n300) and warns on a mismatch.
_N150_BOARD_ID = 0x100018611900001
_N300_BOARD_ID = 0x100014611800002
# Bit masks of harvested tensix rows (see the module docstring for N300).
_N150_HARVEST = 0b1000000
_N300_HARVEST = 0b1000000


def _harvesting(harvest_mask: int) -> str:
    return (
        "    noc_translation: true\n"
        f"    harvest_mask: {harvest_mask}\n"
        "    dram_harvesting_mask: 0\n"
        "    eth_harvesting_mask: 0\n"
        "    pcie_harvesting_mask: 0\n"
    )


def n150_descriptor() -> str:
    """Cluster descriptor YAML of a single-chip Wormhole N150."""
    return (
        "arch:\n  0: wormhole_b0\n"
        "chips:\n  0: [0, 0, 0, 0]\n"
        "ethernet_connections: []\n"
        "chips_with_mmio:\n  - 0: 0\n"
        "harvesting:\n  0:\n" + _harvesting(_N150_HARVEST) + "boards:\n"
        f"  - - board_id: {_N150_BOARD_ID}\n"
        "    - board_type: n150\n"
        "    - chips: [0]\n"
    )


def n300_descriptor() -> str:
    """Cluster descriptor YAML of a two-chip Wormhole N300 (chip 0 has MMIO)."""
    return (
        "arch:\n  0: wormhole_b0\n  1: wormhole_b0\n"
        "chips:\n  0: [0, 0, 0, 0]\n  1: [1, 0, 0, 0]\n"
        "ethernet_connections:\n"
        "  - - {chip: 0, chan: 8}\n    - {chip: 1, chan: 0}\n"
        "  - - {chip: 0, chan: 9}\n    - {chip: 1, chan: 1}\n"
        "chips_with_mmio:\n  - 0: 0\n"
        "harvesting:\n  0:\n" + _harvesting(_N300_HARVEST) + "  1:\n" + _harvesting(_N300_HARVEST)
        + "boards:\n"
        f"  - - board_id: {_N300_BOARD_ID}\n"
        "    - board_type: n300\n"
        "    - chips: [0, 1]\n"
    )


DESCRIPTORS = {"n150": n150_descriptor, "n300": n300_descriptor}


def write_atomically(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    """Write `path` via rename so concurrent test processes never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    tmp.chmod(mode)
    os.replace(tmp, path)


def write_descriptor(board: str, directory: Path) -> Path:
    """Write the descriptor of `board` ("n150" or "n300") into `directory`; return its path."""
    try:
        text = DESCRIPTORS[board]()
    except KeyError:
        raise ValueError(f"unknown mock board {board!r}; expected one of {sorted(DESCRIPTORS)}") from None
    path = directory / f"wormhole_{board}.yaml"
    if not path.exists() or path.read_text() != text:
        write_atomically(path, text)
    return path
