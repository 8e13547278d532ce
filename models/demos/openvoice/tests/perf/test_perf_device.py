"""Device performance of the two TTNN paths, tt-metal style (`-m models_performance_bare_metal`).

Figures are printed, not asserted against targets (targets live in the benchmarks' output):
warm latency, RTF and per-stage op counts for the converter at 5 s and 10 s, warm clone
latency for 3 s, 10 s and 30 s references. Timing needs a card, so these skip on the mock;
the mock runs of both benchmarks are in test_benchmark_*.py.
"""

from __future__ import annotations

import pytest
from loguru import logger

from models.demos.openvoice.demo import benchmark_clone, benchmark_converter
from models.demos.openvoice.reference.reference_encoder import load_reference_encoder
from models.demos.openvoice.tests.helpers import REF_ENC
from models.demos.openvoice.tt.backend import L1_SMALL_SIZE
from tests.shared_data import require_shared_data


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
