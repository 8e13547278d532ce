"""The clone benchmark runs end to end on the mock and reports its figures."""

from __future__ import annotations

import pytest

from models.demos.openvoice.demo import benchmark_clone
from models.demos.openvoice.tests.real_speech import REF_ENC, data_dir


def test_benchmark_reports_figures_for_a_short_reference(capsys: pytest.CaptureFixture[str]) -> None:
    # main() opens (and closes) its own device, as from the command line.
    assert benchmark_clone.main(["--seconds", "1", "--device-mode", "mock", "--ref-enc", str(data_dir() / REF_ENC)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "mock" in table[0]
    seconds, frames, ops, transfers, peak_kib, per_core_kib, latency = table[-1].split()
    assert (seconds, frames, transfers, latency) == ("1s", "86", "0", "n/a")
    assert int(ops) > 50 and int(peak_kib) > int(per_core_kib) > 0
