# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Standalone stand-in for tt-metal's ``models/conftest.py`` (this repository only): its autouse ``ensure_gc``."""

import gc

import pytest


@pytest.fixture(autouse=True)
def ensure_gc() -> None:
    gc.collect()
