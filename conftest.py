# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Standalone stand-in for tt-metal's root ``conftest.py`` (this repository only).

Inside a tt-metal checkout, ``models/demos/openvoice`` runs on tt-metal's own conftest; here this
file supplies the fixtures that model uses, with tt-metal's names, scopes and signatures (root
conftest.py of tt-metal commit 006532ce7f5e; see
TRADEOFFS.md "tt-metal interfaces"):

* ``device_params`` (indirect parametrization: ``l1_small_size``, ``trace_region_size``,
  ``num_command_queues``, ``dispatch_core_axis`` ...), ``device`` (``ttnn.CreateDevice`` +
  ``ttnn.SetDefaultDevice``, closed at teardown), ``mesh_device`` (an int N -> 1xN, or a
  (rows, cols) tuple, default every chip; skips with tt-metal's "Requested more devices than available");
* ``reset_seeds`` (torch, numpy and random seeded with 213919), ``function_level_defaults``,
  ``model_location_generator`` (MLPerf path when it exists, else the model version), ``is_ci_env``.

Behind ``device`` / ``mesh_device``: the card when ``/dev/tenstorrent*`` exists, otherwise the mock
Wormhole of ``mock_wormhole`` (``--device-mode auto|real|mock``, or ``$OPENVOICE_DEVICE``), which
``pytest_configure`` installs before any test module imports ttnn. The CI skip guard is not here:
``./run_tests.sh`` loads it (``-p tests.ci_skip_guard``) for this repository's own run only.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest
import torch
from loguru import logger

# The mock Wormhole harness: --device-mode, the mode resolved before ttnn is imported, markers of its own tests.
pytest_plugins = ["tests.mock_wormhole.pytest_plugin"]


@pytest.fixture(scope="function")
def reset_seeds() -> Iterator[None]:
    torch.manual_seed(213919)
    np.random.seed(213919)
    random.seed(213919)
    yield


@pytest.fixture(scope="function")
def function_level_defaults(reset_seeds: None) -> Iterator[None]:
    yield


@pytest.fixture(scope="function")
def is_ci_env() -> bool:
    return os.getenv("CI") == "true"


@pytest.fixture(scope="session")
def model_location_generator() -> Callable[..., Path | str]:
    """tt-metal's lookup: ``/mnt/MLPerf/tt_dnn-models/<subdir>/<version>`` when it exists (tt-metal's CI
    machines), else ``model_version`` itself (a local path or a hub id). ``download_if_ci_v2`` (tt-metal's
    CIv2 large-file cache) has nothing to download from outside tt-metal's CI and is accepted and ignored."""

    def model_location_generator_(
        model_version: str, model_subdir: str = "", download_if_ci_v2: bool = False, ci_v2_timeout_in_s: int = 300
    ) -> Path | str:
        internal = Path("/mnt/MLPerf") / "tt_dnn-models" / model_subdir / model_version
        if internal.exists():
            logger.info(f"For model location, using internal MLPerf path: {internal}")
            return internal
        logger.info(f"For model location, local copy not found, so likely downloading straight from HF: {model_version}")
        return model_version

    return model_location_generator_


@pytest.fixture(scope="function")
def device_params(request: pytest.FixtureRequest) -> dict[str, Any]:
    return getattr(request, "param", {})


def _open_params(device_params: dict[str, Any]) -> dict[str, Any]:
    """tt-metal's `get_updated_device_params`: the dispatch core axis becomes a DispatchCoreConfig."""
    import ttnn

    params = dict(device_params)
    axis = params.pop("dispatch_core_axis", None)
    if axis is not None:
        params["dispatch_core_config"] = ttnn.DispatchCoreConfig(ttnn.DispatchCoreType.WORKER, axis)
    return params


@pytest.fixture(scope="function")
def device(request: pytest.FixtureRequest, device_params: dict[str, Any]) -> Iterator[Any]:
    import ttnn

    from tests.mock_wormhole.pytest_plugin import require_device

    require_device()
    device = ttnn.CreateDevice(device_id=0, **_open_params(device_params))
    ttnn.SetDefaultDevice(device)
    try:
        yield device
    finally:
        ttnn.close_device(device)


@pytest.fixture(scope="function")
def mesh_device(request: pytest.FixtureRequest, device_params: dict[str, Any]) -> Iterator[Any]:
    import ttnn

    from tests.mock_wormhole.pytest_plugin import available_chips, mesh_shape, mesh_skip_reason, require_device, resolved_mode

    require_device()
    shape = mesh_shape(getattr(request, "param", available_chips()))  # tt-metal: every device when unparametrized
    reason = mesh_skip_reason(shape, resolved_mode())
    if reason is not None:
        pytest.skip(f"Requested more devices than available. Test not applicable for machine ({reason})")
    mesh = ttnn.open_mesh_device(mesh_shape=ttnn.MeshShape(*shape), **_open_params(device_params))
    try:
        yield mesh
    finally:
        ttnn.close_mesh_device(mesh)
