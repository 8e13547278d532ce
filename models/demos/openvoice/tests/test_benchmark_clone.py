# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The clone benchmark runs end to end on the mock and reports its figures."""

from __future__ import annotations

import pytest

from models.demos.openvoice.demo import benchmark_clone
from models.demos.openvoice.tests.helpers import REF_ENC, needs_device
from models.demos.openvoice.utils.device import is_mock_device
from models.demos.openvoice.tests.shared_data import require_shared_data


@needs_device
def test_benchmark_reports_figures_for_a_short_reference(capsys: pytest.CaptureFixture[str]) -> None:
    # main() opens (and closes) its own device, as from the command line (so this test holds none).
    assert benchmark_clone.main(["--seconds", "1", "--ref-enc", str(require_shared_data() / REF_ENC)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert ("mock" in table[0]) == is_mock_device()
    seconds, frames, ops, transfers, peak_kib, per_core_kib, latency = table[-2].split()
    assert "(modelled, not measured)" in table[-1] and "kernels" in table[-1]  # the device-time model's line
    assert (seconds, frames, transfers) == ("1s", "86", "0")
    if is_mock_device():
        assert latency == "n/a"  # mock timing is host emulation: not reported
    else:
        assert float(latency) > 0
    assert int(ops) > 50 and int(peak_kib) > int(per_core_kib) > 0
