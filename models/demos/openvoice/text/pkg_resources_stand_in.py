# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""One stand-in for `pkg_resources`, which setuptools >= 81 no longer ships (the lock has 84.2.1).

Three dependencies still import it for trivial lookups: pykakasi and cn2an (the text frontend) call
`resource_filename` / `resource_stream` on their own package data, and webrtcvad (resemblyzer's VAD)
reads its version with `get_distribution` at import time. `install()` registers one module that
answers those three from `importlib.resources` / `importlib.metadata`, with a proper module spec
(so `importlib.util.find_spec("pkg_resources")` keeps working for everyone else). It is a no-op
when the real `pkg_resources` is importable, and idempotent.
"""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import importlib.util
import sys
import types
from importlib import resources

NAME = "pkg_resources"


def install() -> None:
    """Make `import pkg_resources` work for the three calls above (see the module docstring)."""
    if NAME in sys.modules:
        return
    if importlib.util.find_spec(NAME) is not None:
        return  # real setuptools < 81
    stand_in = types.ModuleType(NAME, "Stand-in registered by models.demos.openvoice.utils.pkg_resources_stand_in.")
    stand_in.__spec__ = importlib.machinery.ModuleSpec(NAME, loader=None)
    stand_in.resource_filename = lambda package, name: str(resources.files(package).joinpath(name))
    stand_in.resource_stream = lambda package, name: resources.files(package).joinpath(name).open("rb")
    stand_in.get_distribution = lambda name: types.SimpleNamespace(version=importlib.metadata.version(name))
    sys.modules[NAME] = stand_in
