"""Device performance of the TTNN paths, tt-metal style. Every test here needs a card (skips on the mock
with "needs a Tenstorrent device"); the mock's per-op-type tables are tested in test_perf_report.py.

* `test_perf_device_bare_metal`: the profiled workload. Under tt-metal's profiler

      python -m tracy -r -p -v -m pytest models/demos/openvoice/tests/test_perf_device_openvoice.py::test_perf_device_bare_metal

  it leaves an ops report (`generated/profiler/reports/<date>/ops_perf_results_<date>.csv`) of known
  structure: warm-up outside the window, then `start`, per model a signpost ("converter" 5 s,
  "clone" 10 s reference, "melo_tts" 5 s when `TtMeloTTS` imports) and ITERATIONS warm
  iterations, then `stop`. `python -m models.demos.openvoice.tools.perf_report` turns it into the
  per-op-type tables and the per-model device time / RTF.
* `test_perf_device_openvoice`: tt-metal's `models_device_performance_bare_metal` check. It runs the
  command above through tracy's `run_device_profiler` and checks each model's device kernel time
  per iteration against EXPECTED_DEVICE_KERNEL_MS (+- MARGIN, both sides) and the bounty's budgets.
* `test_perf_converter`, `test_perf_clone`: the benchmarks' warm latency, RTF and op counts (printed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import ttnn
from loguru import logger

from mock_wormhole import capture
from models.demos.openvoice.demo import benchmark_clone, benchmark_converter
from models.demos.openvoice.reference.reference_encoder import load_reference_encoder
from models.demos.openvoice.tests.helpers import CONFIG, REF_ENC
from models.demos.openvoice.tools.perf_report import (
    CLONE,
    CONVERTER,
    MELO_TTS,
    assert_device_perf,
    build_workloads,
    check_device_perf,
    format_report,
    latest_ops_report,
    read_ops_report,
    run_profiled,
    split_models,
    tts_available,
)
from models.demos.openvoice.tt.backend import L1_SMALL_SIZE
from models.demos.openvoice.tests.shared_data import require_shared_data

CONVERTER_SECONDS = 5.0
CLONE_SECONDS = 10.0
TTS_SECONDS = 5.0
ITERATIONS = 3
PROFILER_SUBDIR = "openvoice"
# Programs the device profiler buffers between two ReadDeviceProfiler calls (tt-metal's default is
# 1000). run_profiled reads after every iteration; one iteration runs ~1400 (converter) to ~2100
# (MeloTTS) programs on the mock at short lengths, more with DRAM slicing at 5 s.
OP_SUPPORT_COUNT = 6000
if os.environ.get("TT_METAL_DEVICE_PROFILER") == "1":  # under `python -m tracy`: read when the device opens
    os.environ.setdefault("TT_METAL_PROFILER_PROGRAM_SUPPORT_COUNT", str(OP_SUPPORT_COUNT))

# Device kernel ms per iteration, tt-metal's models_device_performance_bare_metal convention: the value
# measured on an N150, kept within +-MARGIN. None = not measured on a card yet (none was available to
# this project): the check then logs the measurement to put here and asserts only the budgets.
EXPECTED_DEVICE_KERNEL_MS: dict[str, float | None] = {CONVERTER: None, CLONE: None, MELO_TTS: None}
MARGIN = 0.05
# Upper budgets from the bounty's targets (tenstorrent/tt-metal#32182): VC and TTS RTF < 0.6, clone < 2 s.
BUDGET_RTF = {CONVERTER: 0.6, MELO_TTS: 0.6}
BUDGET_MS = {CLONE: 2000.0}


def _workloads(device: ttnn.Device) -> list:
    reason = tts_available()
    if reason is not None:
        logger.warning(f"MeloTTS left out of the profiled run: {reason}")
    data = require_shared_data()
    return build_workloads(
        device,
        CONVERTER_SECONDS,
        CLONE_SECONDS,
        None if reason is not None else TTS_SECONDS,
        config=data / CONFIG,
        ref_enc=data / REF_ENC,
    )


@pytest.mark.models_performance_bare_metal
@pytest.mark.requires_device
@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_perf_device_bare_metal(device) -> None:
    import tracy  # the ttnn wheel's package (signposts go into the Tracy stream, then the ops report)

    workloads = _workloads(device)
    run_profiled(device, workloads, ITERATIONS, tracy.signpost)
    # After `stop` (outside the measured window): the converter and clone iterations moved nothing
    # over PCIe and produced finite values (MeloTTS has its one documented host sync).
    for workload in workloads:
        if workload.name in (CONVERTER, CLONE):
            report = capture(workload.run)
            assert report.num_host_transfers == 0, f"{workload.name}: {report.host_transfers}"
            assert torch.isfinite(ttnn.to_torch(report.result).float()).all(), workload.name


@pytest.mark.models_device_performance_bare_metal
@pytest.mark.requires_device
def test_perf_device_openvoice(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracy.process_model_log import get_profiler_folder, run_device_profiler

    monkeypatch.setenv("TRACY_NO_WEB_SERVER", "1")  # headless: no Tracy web UI daemon after the capture
    command = f"pytest {Path(__file__).resolve()}::test_perf_device_bare_metal"
    run_device_profiler(command, PROFILER_SUBDIR, op_support_count=OP_SUPPORT_COUNT)
    path = latest_ops_report(get_profiler_folder(PROFILER_SUBDIR))
    runs = split_models(read_ops_report(path))
    logger.info("\n" + format_report(runs, str(path)))
    expected = {name: value for name, value in EXPECTED_DEVICE_KERNEL_MS.items() if name != MELO_TTS or tts_available() is None}
    budgets = dict(BUDGET_MS)
    for run in runs:
        if run.name in BUDGET_RTF and run.audio_seconds:
            budgets[run.name] = BUDGET_RTF[run.name] * run.audio_seconds * 1000.0
    assert all(run.iterations == ITERATIONS and run.ops for run in runs if run.name in expected)
    assert_device_perf(check_device_perf(runs, expected, MARGIN, budgets))


@pytest.mark.models_performance_bare_metal
@pytest.mark.requires_device
@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_perf_converter(device) -> None:
    model = benchmark_converter.release_model(config=None, checkpoint=None)
    results = benchmark_converter.benchmark(device, False, model, seconds=benchmark_converter.DEFAULT_SECONDS)
    logger.info("\n" + benchmark_converter.format_table(results))
    assert all(r.latency_ms > 0 and r.forward.host_transfers == 0 for r in results)


@pytest.mark.models_performance_bare_metal
@pytest.mark.requires_device
@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_perf_clone(device) -> None:
    rows = benchmark_clone.benchmark(device, load_reference_encoder(require_shared_data() / REF_ENC), benchmark_clone.DEFAULT_SECONDS)
    logger.info("\n" + benchmark_clone.format_table(rows, mock=False))
    assert all(r.latency_ms > 0 and r.host_transfers == 0 for r in rows)
