#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv from requirements.lock.
#
# ttnn 0.81.1 ships wheels for CPython 3.10 and 3.12 only: take pyenv's 3.12.x, else a
# python3.12 / python3.10 on PATH. Reinstalls only when requirements.lock changed.
# --relock: install requirements.in into a fresh .venv and rewrite requirements.lock.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
lock="$root/requirements.lock"

find_python() {
    local candidate
    if command -v pyenv >/dev/null 2>&1; then
        for candidate in "$(pyenv root)"/versions/3.12*/bin/python3.12 "$(pyenv root)"/versions/3.10*/bin/python3.10; do
            [ -x "$candidate" ] && { echo "$candidate"; return 0; }
        done
    fi
    for candidate in python3.12 python3.10; do
        command -v "$candidate" >/dev/null 2>&1 && { command -v "$candidate"; return 0; }
    done
    echo "error: ttnn 0.81.1 needs CPython 3.12 or 3.10 (pyenv install 3.12.1, or put python3.12 on PATH)" >&2
    return 1
}

stamp="$venv/.requirements.sha256"
want="$(sha256sum "$lock" | cut -d' ' -f1)"
if [ "${1:-}" != "--relock" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
    exit 0
fi

python="$(find_python)"
echo "creating $venv with $python" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
if [ "${1:-}" = "--relock" ]; then
    "$venv/bin/pip" install -r "$root/requirements.in"
    { echo "# Pinned environment of this project (pip freeze of a fresh install on Python 3.12)."
      echo "# Regenerate: scripts/create_env.sh --relock"
      "$venv/bin/pip" freeze; } > "$lock"
    want="$(sha256sum "$lock" | cut -d' ' -f1)"
else
    "$venv/bin/pip" install -r "$lock"
fi
echo "$want" > "$stamp"
