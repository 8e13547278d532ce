# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Device and end-to-end performance, on tt-metal's perf harness (card only: every test here skips on the
mock with "needs a Tenstorrent device"; the mock's per-op-type tables are tested in test_perf_report.py).

Device performance, per model (converter 5 s, clone 10 s reference, MeloTTS 5 s), tt-metal's pattern:

* `test_perf_device_bare_metal[<model>]` is the profiled workload: warm-up outside the window, then
  tt-metal's `start` signpost, a `<model>` signpost, ITERATIONS warm forwards, `stop`;
* `test_perf_device_openvoice[<model>]` (`models_device_performance_bare_metal`) runs it under the device
  profiler through `run_device_perf(..., has_signposts=True)`, checks the kernel time per forward with
  `check_device_perf` against EXPECTED_DEVICE_KERNEL_NS (+- MARGIN) and writes tt-metal's CSV with
  `prep_device_perf_report`; the bounty's budgets (VC / TTS RTF < 0.6, clone < 2 s) are asserted too.

      pytest models/demos/openvoice/tests/test_perf_device_openvoice.py -m models_device_performance_bare_metal
      python -m tracy -r -p -v -m pytest models/demos/openvoice/tests/test_perf_device_openvoice.py::test_perf_device_bare_metal

  The second leaves one ops report with all three models; `python -m models.demos.openvoice.tools.perf_report`
  turns it into per-op-type tables and the per-model device time / RTF.

End-to-end (`models_performance_bare_metal`): `test_perf_<model>` times the first call (compile +
inference) and a warm forward (synchronised) and writes tt-metal's
`prep_perf_report` CSV with the expected times below; the warm call is asserted within its budget.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import ttnn
from loguru import logger

from models.common.utility_functions import run_for_wormhole_b0
from models.demos.openvoice.tests.helpers import CONFIG, REF_ENC, requires_device
from models.demos.openvoice.tests.shared_data import require_shared_data
from models.demos.openvoice.tools.perf_report import (
    CLONE,
    CONVERTER,
    MELO_TTS,
    Workload,
    clone_workload,
    converter_workload,
    run_profiled,
    tts_workload,
)
from models.demos.openvoice.utils.device import L1_SMALL_SIZE
from models.perf.device_perf_utils import check_device_perf, prep_device_perf_report, run_device_perf
from models.perf.perf_utils import prep_perf_report

SECONDS = {CONVERTER: 5.0, CLONE: 10.0, MELO_TTS: 5.0}  # audio per forward (the clone: reference length)
ITERATIONS = 1  # warm forwards inside the window: tt-metal's DURATION is then per forward
KERNEL_NS = "AVG DEVICE KERNEL DURATION [ns]"
# Programs the device profiler buffers (tt-metal's default 1000, x1.333 in run_device_profiler): one
# MeloTTS forward runs ~3000 programs, a 5 s conversion with DRAM slicing ~1400.
OP_SUPPORT_COUNT = 6000
# Device kernel ns per forward on an N150, tt-metal's models_device_performance_bare_metal convention:
# the measured value, kept within +-MARGIN. None = not measured on a card yet (none was available to
# this project): the check then logs the measurement to put here and asserts only the budgets.
EXPECTED_DEVICE_KERNEL_NS: dict[str, float | None] = {CONVERTER: None, CLONE: None, MELO_TTS: None}
MARGIN = 0.05
# Upper budgets per forward from the bounty's targets (tenstorrent/tt-metal#32182): VC and TTS RTF < 0.6,
# clone < 2 s; end to end the same, and the first call (compile) within a minute.
BUDGET_S = {CONVERTER: 0.6 * SECONDS[CONVERTER], CLONE: 2.0, MELO_TTS: 0.6 * SECONDS[MELO_TTS]}
EXPECTED_COMPILE_S = 60.0
DEVICE_PARAMS = pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)


def _workload(device: ttnn.Device, model: str) -> Workload:
    data = require_shared_data()
    if model == CONVERTER:
        return converter_workload(device, SECONDS[model], config=data / CONFIG)
    if model == CLONE:
        return clone_workload(device, SECONDS[model], ref_enc=data / REF_ENC)
    return tts_workload(device, SECONDS[model])


@pytest.mark.models_performance_bare_metal
@requires_device
@run_for_wormhole_b0()
@DEVICE_PARAMS
@pytest.mark.parametrize("model", list(SECONDS))
def test_perf_device_bare_metal(device, model: str) -> None:
    import tracy  # the ttnn wheel's profiler front end: signposts go into the ops report

    run_profiled(device, [_workload(device, model)], ITERATIONS, tracy.signpost)


@pytest.mark.models_device_performance_bare_metal
@requires_device
@pytest.mark.parametrize("model", list(SECONDS))
def test_perf_device_openvoice(model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACY_NO_WEB_SERVER", "1")  # headless: no Tracy web UI after the capture
    command = f"pytest {Path(__file__).resolve()}::test_perf_device_bare_metal[{model}]"
    results = run_device_perf(
        command, f"openvoice_{model}", 1, ["DEVICE KERNEL"], 1, has_signposts=True, op_support_count=OP_SUPPORT_COUNT
    )
    expected = EXPECTED_DEVICE_KERNEL_NS[model]
    if expected is None:
        logger.warning(f"{model}: EXPECTED_DEVICE_KERNEL_NS not calibrated; measured {results[KERNEL_NS]:.0f} ns")
    expected_results = check_device_perf(results, MARGIN, {KERNEL_NS: expected} if expected else {}, assert_on_fail=True)
    prep_device_perf_report(f"ttnn_openvoice_{model}", 1, results, expected_results, f"{SECONDS[model]:g}s")
    assert results[KERNEL_NS] * 1e-9 <= BUDGET_S[model], f"{model}: {results[KERNEL_NS] * 1e-6:.1f} ms of device kernels"


@pytest.mark.models_performance_bare_metal
@requires_device
@run_for_wormhole_b0()
@DEVICE_PARAMS
@pytest.mark.parametrize("model", list(SECONDS))
def test_perf_openvoice(device, model: str) -> None:
    """First call and warm call of one forward, synchronised: tt-metal's end-to-end perf report."""
    durations = []
    start = time.time()
    workload = _workload(device, model)  # builds, uploads and runs the first (compiling) forward
    ttnn.synchronize_device(device)
    durations.append(time.time() - start)
    start = time.time()
    workload.run()
    ttnn.synchronize_device(device)
    durations.append(time.time() - start)
    inference_and_compile_time, inference_time = durations
    prep_perf_report(
        model_name=f"ttnn_openvoice_{model}",
        batch_size=1,
        inference_and_compile_time=inference_and_compile_time,
        inference_time=inference_time,
        expected_compile_time=EXPECTED_COMPILE_S,
        expected_inference_time=BUDGET_S[model],
        comments=f"{SECONDS[model]:g}s",
    )
    logger.info(f"{model}: compile + inference {inference_and_compile_time:.2f} s, inference {inference_time:.4f} s")
    assert inference_time <= BUDGET_S[model]
