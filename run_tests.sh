#!/usr/bin/env bash
# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
# The test command (README, .ci/run): build/reuse .venv from requirements.lock, then pytest.
# Extra arguments go to pytest, e.g. ./run_tests.sh models/demos/openvoice/tests -k golden
set -euo pipefail
cd "$(dirname "$0")"
scripts/create_env.sh
if [ -z "${OPENVOICE_SHARED_DATA:-}" ] && [ -d ../shared/data ]; then
    OPENVOICE_SHARED_DATA="$(cd ../shared/data && pwd)"
    export OPENVOICE_SHARED_DATA
fi
# tt-metal logs (device open/close, JIT telemetry) would bury the pytest summary.
export TT_LOGGER_LEVEL="${TT_LOGGER_LEVEL:-error}"
# The mock's shadow goldens are many small torch ops: OpenMP thread hand-offs cost more than they
# save on these 2-core machines (the MeloTTS text-encoder tests: 144 s -> 29 s with one thread, under load).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
# -p tests.ci_skip_guard: with CI=true only hardware and official-checkpoint skips are allowed (this repository only).
exec .venv/bin/python -m pytest -p tests.ci_skip_guard "$@"
