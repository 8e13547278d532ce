# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Private tt-metal runtime root and build cache for the mock device.

Opening even a mocked device makes tt-metal build firmware and, later, every
op's kernels with the SFPI RISC-V toolchain found at
``<runtime root>/runtime/sfpi/compiler/bin/riscv-tt-elf-g++``. That toolchain is
not shipped in the ttnn wheel and cannot be downloaded here, and on a mock
nothing executes the binaries anyway. So we point ``TT_METAL_RUNTIME_ROOT`` at
an *overlay* directory:

* every entry of the installed ``ttnn`` package is symlinked (headers, kernel
  sources, SoC descriptors ... are read from there);
* ``runtime/`` holds symlinks to the package's ``runtime/*`` plus a private
  ``sfpi/`` whose compiler is a small POSIX-sh stub (`riscv-tt-elf-g++`): it
  answers ``--version`` and produces every file the build expects
  (``.gch``, ``.o`` + ``.d``, and ``.elf`` copied from a generated minimal
  RISC-V ELF, see :mod:`mock_wormhole.elf`).

The installed ttnn is never modified, the stub is never put where a real
toolchain would be looked up for a real device (``/opt/tenstorrent/sfpi`` or
the package's own ``runtime/sfpi``), and ``TT_METAL_CACHE`` points to a private
directory so stub binaries never land in a real JIT cache. Processes that do not
select the mock see no difference.

Everything lives under ``$OPENVOICE_MOCK_DIR`` (default
``${XDG_CACHE_HOME:-~/.cache}/openvoice-ttnn/mock``), keyed by the ttnn install
so several virtualenvs can share it.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from loguru import logger

from mock_wormhole.cluster import write_atomically
from mock_wormhole.elf import minimal_riscv_elf

# Bump when the stub or the ELF template changes, so old overlays are not reused.
_OVERLAY_FORMAT = 1
_COMPILER_RELPATH = Path("runtime/sfpi/compiler/bin/riscv-tt-elf-g++")

# The stub parses just enough of gcc's command line to create the outputs tt-metal checks for.
# Set OPENVOICE_MOCK_CC_LOG=<file> to record every invocation (debugging aid).
_STUB_TEMPLATE = r"""#!/bin/sh
# Mock SFPI compiler for the openvoice-ttnn mock device: writes placeholder outputs, compiles nothing.
[ -n "$OPENVOICE_MOCK_CC_LOG" ] && echo "riscv-tt-elf-g++ $*" >> "$OPENVOICE_MOCK_CC_LOG"
out=""; compile=0; deps=0; depfile=""; prev=""
for arg in "$@"; do
  case "$prev" in
    -o) out="$arg" ;;
    -MF) depfile="$arg" ;;
  esac
  case "$arg" in
    --version) echo "riscv-tt-elf-g++ (openvoice-ttnn mock sfpi) 0.0.0"; exit 0 ;;
    -dumpversion) echo "0.0.0"; exit 0 ;;
    -c) compile=1 ;;
    -MMD|-MD) deps=1 ;;
  esac
  prev="$arg"
done
[ -z "$out" ] && exit 0
case "$out" in
  *.elf) cp "@ELF@" "$out" ;;
  *) printf 'openvoice-ttnn mock object\n' > "$out" ;;
esac
if [ "$compile" = 1 ] && [ "$deps" = 1 ]; then
  [ -z "$depfile" ] && depfile="${out%.*}.d"
  printf '%s:\n' "$out" > "$depfile"
fi
exit 0
"""


def mock_base_dir() -> Path:
    """Directory holding every private mock artefact (descriptors, overlays, cache)."""
    if os.environ.get("OPENVOICE_MOCK_DIR"):
        return Path(os.environ["OPENVOICE_MOCK_DIR"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "openvoice-ttnn" / "mock"


def real_device_paths() -> list[str]:
    """Kernel-driver nodes of Tenstorrent cards on this host (empty when there is none)."""
    return sorted(glob.glob("/dev/tenstorrent*"))


def ttnn_package_dir() -> Path:
    """Location of the installed ttnn package, found without importing it."""
    spec = importlib.util.find_spec("ttnn")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the ttnn package is not installed in this Python environment")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def _install_key(package: Path) -> str:
    try:
        version = importlib.metadata.version("ttnn")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    digest = hashlib.sha256(f"{package}|{version}|{_OVERLAY_FORMAT}".encode()).hexdigest()[:12]
    return f"ttnn-{version}-{digest}"


def runtime_root(base: Path | None = None) -> Path:
    """Return the overlay runtime root for the installed ttnn, creating it if needed."""
    base = base or mock_base_dir()
    package = ttnn_package_dir()
    root = base / _install_key(package) / "runtime-root"
    if (root / _COMPILER_RELPATH).exists():
        return root

    if (package / "runtime" / "sfpi").exists():
        # A wheel that ships its own toolchain: still use the stub for the mock (no kernel ever runs on a
        # mock, and a real compile would only cost time), but say so.
        logger.info(f"{package}/runtime/sfpi exists; the mock overlay uses its stub compiler instead")

    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".runtime-root.", dir=root.parent))
    for entry in package.iterdir():
        if entry.name != "runtime":
            (staging / entry.name).symlink_to(entry)
    (staging / "runtime").mkdir()
    for entry in (package / "runtime").iterdir():
        if entry.name != "sfpi":
            (staging / "runtime" / entry.name).symlink_to(entry)
    elf = staging / "runtime/sfpi/minimal.elf"
    write_atomically(elf, minimal_riscv_elf())
    # The stub points at the template's final location (after the rename below).
    stub = _STUB_TEMPLATE.replace("@ELF@", str(root / "runtime/sfpi/minimal.elf"))
    write_atomically(staging / _COMPILER_RELPATH, stub, mode=0o755)

    try:
        os.rename(staging, root)
        logger.debug(f"created mock runtime root {root}")
    except OSError:
        # Another process won the race; its overlay is identical.
        shutil.rmtree(staging, ignore_errors=True)
    return root


def jit_cache_dir(base: Path | None = None) -> Path:
    """Private TT_METAL_CACHE for stub-built binaries (never the real ~/.cache/tt-metal-cache).

    tt-metal appends its own ``tt-metal-cache`` component to this directory.
    """
    base = base or mock_base_dir()
    path = base / _install_key(ttnn_package_dir()) / "jit"
    path.mkdir(parents=True, exist_ok=True)
    return path
