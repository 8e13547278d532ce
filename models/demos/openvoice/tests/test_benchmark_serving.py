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
    """3 convert and 3 clone requests on 1 and 2 chips: the sequential rounds take one forward per request, the
    concurrent convert round ONE (the batcher), clones stay one each (not batched); every figure row is there,
    measured columns "-" on the mock, and the predicted rows labelled modelled."""
    # main() opens (and closes) its own devices, as from the command line.
    assert benchmark_serving.main(["--requests", "3", "--chips", "1", "2", "--seconds", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines if line.split()[:1] in (["convert"], ["clone"])]
    measured = {(r[0], r[1], r[3]): r for r in rows if r[4].isdigit()}
    for chips in ("1", "2"):
        assert measured[("convert", chips, "sequential")][4] == "3" and measured[("convert", chips, "concurrent")][4] == "1"
        assert measured[("clone", chips, "sequential")][4] == measured[("clone", chips, "concurrent")][4] == "3"
        conc, seq = measured[("convert", chips, "concurrent")], measured[("convert", chips, "sequential")]
        assert float(conc[6]) < float(seq[6])  # host transfers per request fall with batching
        if is_mock_device():
            assert conc[7:] == ["-"] * 4
    assert "(modelled, not measured)" in lines[len(measured) + 2]
    modelled = [r for r in rows if r[4] in ("eager", "traced")]
    assert len(modelled) == 2 * len(measured) and all(float(r[5]) > 0 for r in modelled)
