# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The serving benchmark runs end to end on the mock (one chip and the N300 mesh) and prints its table."""

from __future__ import annotations

import pytest

from models.demos.openvoice.demo import benchmark_serving
from models.demos.openvoice.tests.helpers import needs_device
from models.demos.openvoice.utils.device import is_mock_device


@needs_device
def test_serving_table(capsys: pytest.CaptureFixture[str]) -> None:
    """2 convert and 2 clone requests on 1 and 2 chips: the sequential rounds take one forward per request, the
    concurrent convert round ONE (the batcher), clones stay one each (not batched); every figure row is there,
    measured columns "-" on the mock (which runs the eager path only), and the predicted rows labelled modelled."""
    # main() opens (and closes) its own devices, as from the command line.
    assert benchmark_serving.main(["--requests", "2", "--chips", "1", "2", "--seconds", "0.5", "--paths", "traced"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines if line.split()[:1] in (["convert"], ["clone"])]
    # work, chips, requests, round, path, forwards, ops/req, xfers/req, req/s, p50, p90, p99
    measured = {(r[0], r[1], r[3]): r for r in rows if r[5].isdigit()}
    for chips in ("1", "2"):
        conc, seq = measured[("convert", chips, "concurrent")], measured[("convert", chips, "sequential")]
        assert (seq[5], conc[5]) == ("2", "1")
        assert measured[("clone", chips, "sequential")][5] == measured[("clone", chips, "concurrent")][5] == "2"
        assert float(conc[7]) < float(seq[7])  # host transfers per request fall with batching
        assert conc[4] == ("eager" if is_mock_device() else "traced")
        if is_mock_device():
            assert conc[8:] == ["-"] * 4
    assert any("(modelled, not measured)" in line for line in lines)
    modelled = [r for r in rows if not r[5].isdigit()]  # ... eager|traced, req/s, "req/s,", latency ...
    assert len(modelled) == 2 * len(measured) and all(float(r[5]) > 0 for r in modelled)
