#!/usr/bin/env bash
# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
# Create (or reuse) the project's virtual environment in .venv from requirements.lock.
#
# ttnn 0.81.1 ships wheels for CPython 3.10 and 3.12; the lock is resolved for 3.12 (several
# pins need >= 3.11): take pyenv's 3.12.x, else python3.12 on PATH. Reinstalls only when
# requirements.lock or pyproject.toml changed.
# --relock: install requirements.in into a fresh .venv and rewrite requirements.lock.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
lock="$root/requirements.lock"
nodeps="$root/models/demos/openvoice/requirements-nodeps.txt"  # installed without dependencies (MeloTTS's text code)

find_python() {
    local candidate
    if command -v pyenv >/dev/null 2>&1; then
        for candidate in "$(pyenv root)"/versions/3.12*/bin/python3.12; do
            [ -x "$candidate" ] && { echo "$candidate"; return 0; }
        done
    fi
    if command -v python3.12 >/dev/null 2>&1; then
        command -v python3.12
        return 0
    fi
    echo "error: this project needs CPython 3.12 (ttnn 0.81.1 wheels exist for 3.10 and 3.12; requirements.lock is" >&2
    echo "       resolved for 3.12). Install it with 'pyenv install 3.12.1' or put python3.12 on PATH." >&2
    return 1
}

stamp="$venv/.requirements.sha256"
want="$(cat "$lock" "$nodeps" "$root/pyproject.toml" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
if [ "${1:-}" != "--relock" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
    exit 0
fi

python="$(find_python)"
echo "creating $venv with $python" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet "pip==26.3"  # pinned like everything else
if [ "${1:-}" = "--relock" ]; then
    "$venv/bin/pip" install -r "$root/requirements.in"
    { echo "# Pinned environment of this project (pip freeze of a fresh install on Python 3.12)."
      echo "# Regenerate: scripts/create_env.sh --relock"
      "$venv/bin/pip" freeze --exclude melotts-krqnf; } > "$lock"
    want="$(cat "$lock" "$nodeps" "$root/pyproject.toml" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
else
    "$venv/bin/pip" install -r "$lock"
fi
"$venv/bin/pip" install --quiet --no-deps -r "$nodeps"
# The project itself, editable and without dependencies (the lock has them): the CLI and the
# benchmarks then run from any directory.
"$venv/bin/pip" install --quiet --no-deps --no-build-isolation -e "$root"
# This repository's standalone stand-in for a card: on a host without /dev/tenstorrent*, ttnn.open_device
# opens the mock Wormhole (mock_wormhole/ttnn_patch.py). The hook only acts once ttnn is imported.
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "import mock_wormhole.ttnn_patch; mock_wormhole.ttnn_patch.install_on_import()" > "$site/mock_wormhole.pth"
echo "$want" > "$stamp"
