# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""tools/perf_report: tt-metal ops-report post-processing (on CSVs written here in tt-metal's column
format) and the per-op-type tables from graph capture on the mock (or the card)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from models.demos.openvoice.tools import perf_report
from models.demos.openvoice.tools.perf_report import (
    CLONE,
    CONVERTER,
    MELO_TTS,
    ModelRun,
    OpRow,
    assert_model_times,
    check_model_times,
    latest_ops_report,
    op_type_table,
    read_ops_report,
    signpost_message,
    split_models,
)
from models.demos.openvoice.utils.device import L1_SMALL_SIZE

# The leading columns of tt-metal's ops_perf_results_*.csv (tools/tracy/process_ops_logs.py OPS_CSV_HEADER).
HEADER = [
    "OP CODE", "OP TYPE", "GLOBAL CALL COUNT", "DEVICE ID", "DEVICE ARCH", "ATTRIBUTES", "MATH FIDELITY", "CORE COUNT",
    "HOST START TS", "HOST END TS", "HOST DURATION [ns]", "DEVICE FW DURATION [ns]", "DEVICE KERNEL DURATION [ns]",
]  # fmt: skip


def write_ops_report(path: Path, rows: list[tuple[str, str, float | None, str]]) -> Path:
    """(op code, op type, kernel ns or None, attributes) -> a CSV laid out like tt-metal's ops report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        for i, (code, kind, kernel_ns, attributes) in enumerate(rows):
            device = kind != "signpost"
            writer.writerow(
                {
                    "OP CODE": code,
                    "OP TYPE": kind,
                    "GLOBAL CALL COUNT": 1024 * (i + 1) if device else "",
                    "DEVICE ID": 0 if device else "",
                    "DEVICE ARCH": "WORMHOLE_B0" if device else "",
                    "ATTRIBUTES": attributes,
                    "MATH FIDELITY": "HiFi4" if device else "",
                    "CORE COUNT": 64 if device else "",
                    "HOST START TS": 1000 * i,
                    "HOST END TS": 1000 * i + 500,
                    "HOST DURATION [ns]": 500,
                    "DEVICE FW DURATION [ns]": "" if kernel_ns is None else int(kernel_ns) + 300,
                    "DEVICE KERNEL DURATION [ns]": "-" if kernel_ns is None and device else ("" if kernel_ns is None else int(kernel_ns)),
                }
            )
    return path


def op(code: str, kernel_ns: float | None) -> tuple[str, str, float | None, str]:
    return (code, "tt_dnn_device", kernel_ns, "{'memory_config': 'DRAM'}")


def signpost(name: str, message: str = "") -> tuple[str, str, None, str]:
    return (name, "signpost", None, message)


MS = 1_000_000  # ns
CONVERTER_ITERATION = [
    op("MatmulDeviceOperation", 1.0 * MS),
    op("Conv2dDeviceOperation", 3.0 * MS),
    op("BinaryNgDeviceOperation", 0.5 * MS),
    op("MatmulDeviceOperation", 1.5 * MS),
]  # 6 ms per iteration


def two_model_report(path: Path) -> Path:
    """Warm-up ops, then start | converter x2 iterations (5 s audio) | clone x1 (10 s) | stop, then a download."""
    return write_ops_report(
        path,
        [
            op("MatmulDeviceOperation", 99.0 * MS),  # warm-up before the window: ignored
            signpost("start"),
            signpost(CONVERTER, signpost_message(2, 5.0)),
            *CONVERTER_ITERATION,
            *CONVERTER_ITERATION,
            signpost(CLONE, signpost_message(1, 10.0)),
            op("LayerNormDeviceOperation", 0.2 * MS),
            op("MatmulDeviceOperation", 0.8 * MS),
            op("ReshapeViewDeviceOperation", None),  # a row without device data
            signpost("stop"),
            op("UntilizeWithUnpaddingDeviceOperation", 42.0 * MS),  # after the window: ignored
        ],
    )


def test_ops_report_tables_and_summary(tmp_path: Path) -> None:
    runs = split_models(read_ops_report(two_model_report(tmp_path / "ops_perf_results_2026_11_28_09_00_00.csv")))
    assert [r.name for r in runs] == [CONVERTER, CLONE]
    converter, clone = runs
    assert (converter.iterations, converter.audio_seconds, len(converter.ops)) == (2, 5.0, 8)
    assert converter.kernel_ms == pytest.approx(12.0) and converter.kernel_ms_per_iteration == pytest.approx(6.0)
    assert converter.rtf == pytest.approx(6.0e-3 / 5.0)
    table = [(r.op_code, r.count, r.per_iteration, r.kernel_ms, r.share) for r in op_type_table(converter)]
    assert table == [
        ("Conv2dDeviceOperation", 2, 1.0, pytest.approx(6.0), pytest.approx(0.5)),
        ("MatmulDeviceOperation", 4, 2.0, pytest.approx(5.0), pytest.approx(5 / 12)),
        ("BinaryNgDeviceOperation", 2, 1.0, pytest.approx(1.0), pytest.approx(1 / 12)),
    ]
    assert (clone.iterations, clone.audio_seconds, len(clone.ops)) == (1, 10.0, 3)
    assert clone.kernel_ms_per_iteration == pytest.approx(1.0) and clone.rtf == pytest.approx(1e-4)
    reshape = next(r for r in op_type_table(clone) if r.op_code == "ReshapeViewDeviceOperation")
    assert (reshape.count, reshape.kernel_ms, reshape.share) == (1, 0.0, 0.0)
    text = perf_report.format_report(runs, "test")
    assert "Conv2dDeviceOperation" in text and " 50.0%" in text and "0.0012" in text  # share, converter RTF


def test_ops_report_without_signposts_is_one_model(tmp_path: Path) -> None:
    path = write_ops_report(tmp_path / "r.csv", CONVERTER_ITERATION)
    (run,) = split_models(read_ops_report(path))
    assert (run.name, run.iterations, len(run.ops), run.audio_seconds) == ("all", 1, 4, None)
    assert run.kernel_ms == pytest.approx(6.0) and run.rtf is None


def test_not_an_ops_report(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("name,value\nx,1\n")
    with pytest.raises(ValueError, match="missing column"):
        read_ops_report(path)


def test_expected_device_perf_check(tmp_path: Path) -> None:
    runs = split_models(read_ops_report(two_model_report(tmp_path / "r.csv")))
    # converter 6.0 ms/iter, clone 1.0 ms/iter (see two_model_report)
    checks = check_model_times(runs, {CONVERTER: 6.1, CLONE: 1.02}, margin=0.05)
    assert [c.status for c in checks] == ["ok", "ok"]
    assert_model_times(checks)

    checks = check_model_times(
        runs, {CONVERTER: 5.0, CLONE: 2.0, MELO_TTS: 10.0}, margin=0.05, budget_ms={CLONE: 5.0}
    )
    assert [c.status for c in checks] == ["too slow", "faster than expected", "missing"]
    with pytest.raises(AssertionError) as failure:
        assert_model_times(checks)
    message = str(failure.value)
    assert "converter, clone, melo_tts" in message
    assert "converter    measured 6.000 ms/iter, expected 5.000 ms +-5% [4.750, 5.250]" in message
    assert "TOO SLOW" in message and "FASTER THAN EXPECTED (update the expected value" in message

    # Budgets (the bounty's RTF targets) apply even before a card measurement calibrates the expected value.
    checks = check_model_times(runs, {CONVERTER: None, CLONE: None}, margin=0.05, budget_ms={CONVERTER: 3.0, CLONE: 2.0})
    assert [c.status for c in checks] == ["over budget", "not calibrated"]
    assert [c.failed for c in checks] == [True, False]


def test_latest_ops_report_and_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    root = tmp_path / "generated" / "profiler"
    old = write_ops_report(root / "reports/2026_11_27_10_00_00/ops_perf_results_2026_11_27_10_00_00.csv", CONVERTER_ITERATION)
    new = two_model_report(root / "openvoice/reports/2026_11_28_09_00_00/ops_perf_results_2026_11_28_09_00_00.csv")
    os.utime(old, (1_000_000, 1_000_000))
    assert latest_ops_report(root) == new
    with pytest.raises(FileNotFoundError, match="python -m tracy"):
        latest_ops_report(tmp_path / "empty")

    monkeypatch.setenv("TT_METAL_PROFILER_DIR", str(root))
    assert perf_report.main([]) == 0
    out = capsys.readouterr().out
    assert str(new) in out and "converter" in out and "clone" in out and "6.000" in out
    assert perf_report.main([str(old)]) == 0
    assert "all: 4 device ops over 1 iteration(s)" in capsys.readouterr().out
    monkeypatch.setenv("TT_METAL_PROFILER_DIR", str(tmp_path / "empty"))
    assert perf_report.main([]) == 1


@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_op_tables_from_graph_capture(device, shared_data: Path, tmp_path: Path) -> None:
    """The mock's per-op-type tables: one warm iteration of the converter (golden small config,
    0.3 s) and the clone (real reference encoder, 1 s) captured; the same tables come back from
    an ops report written from those ops, so the mock and card paths name and count ops alike. (That
    round trip cannot check the reader against tt-metal's format: test_reads_a_report_in_tt_metals_format.)"""
    workloads = perf_report.build_workloads(
        device, 0.3, 1.0, config=shared_data / "golden/vc_small_b2/config.json", ref_enc=shared_data / "openvoice_v2/ref_enc/ref_enc.pt"
    )
    captured = [perf_report.capture_run(workload) for workload in workloads]
    runs = [run for run, _ in captured]
    assert [r.name for r in runs] == [CONVERTER, CLONE]
    for run, report in captured:
        programs = [n for n in report.graph if n.get("node_type") == "program_execution"]
        assert len(run.ops) == len(programs) > 0  # one row per program run, as in the ops report
        assert report.num_host_transfers == 0  # a warm iteration: nothing crosses the PCIe
        assert all(op.op_code.endswith("DeviceOperation") for op in run.ops)
        assert run.kernel_ms is None and all(r.kernel_ms is None and r.share is None for r in op_type_table(run))
    converter, clone = ({r.op_code: r.count for r in op_type_table(run)} for run in runs)
    assert converter["MatmulDeviceOperation"] > 0 and converter["Conv2dDeviceOperation"] > 0
    assert clone["LayerNormDeviceOperation"] == 1  # the reference encoder's one LayerNorm
    assert converter["Conv2dDeviceOperation"] == converter["HaloDeviceOperation"]  # each k>1 conv: halo + conv

    rows = [signpost("start")]
    for run in runs:
        rows += [signpost(run.name, signpost_message(1, run.audio_seconds)), *(op(o.op_code, None) for o in run.ops)]
    read_back = split_models(read_ops_report(write_ops_report(tmp_path / "mock.csv", [*rows, signpost("stop")])))
    assert [[(r.op_code, r.count) for r in op_type_table(x)] for x in read_back] == [
        [(r.op_code, r.count) for r in op_type_table(x)] for x in runs
    ]
    text = perf_report.format_report(runs, "mock")
    assert "LayerNormDeviceOperation" in text and "RTF (kernel)" in text


def test_device_ops_names_programs_by_innermost_device_operation() -> None:
    graph = [
        {"node_type": "function_start", "params": {"name": "ttnn.conv1d"}},
        {"node_type": "function_start", "params": {"name": "HaloDeviceOperation"}},
        {"node_type": "program_execution", "params": {}},
        {"node_type": "function_end", "params": {}},
        {"node_type": "function_start", "params": {"name": "Conv2dDeviceOperation"}},
        {"node_type": "function_start", "params": {"name": "tt::tt_metal::create_device_tensor"}},
        {"node_type": "function_end", "params": {}},
        {"node_type": "program_execution", "params": {}},
        {"node_type": "function_end", "params": {}},
        {"node_type": "function_end", "params": {}},
    ]
    assert perf_report.device_ops(graph) == ["HaloDeviceOperation", "Conv2dDeviceOperation"]
    assert isinstance(ModelRun("x", ops=[OpRow("a", "tt_dnn_device", 0, 1, 2.0)]).kernel_ms, float)


@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_run_profiled_window(device) -> None:
    """The signpost sequence the profiled test writes into the ops report (what split_models reads)."""
    calls: list[str] = []
    posts: list[tuple] = []
    workloads = [
        perf_report.Workload(CONVERTER, 5.0, lambda: calls.append(CONVERTER)),
        perf_report.Workload(CLONE, 10.0, lambda: calls.append(CLONE)),
    ]
    perf_report.run_profiled(device, workloads, 3, lambda *args: posts.append(args))
    assert calls == [CONVERTER] * 3 + [CLONE] * 3
    assert posts == [
        ("start",),
        (CONVERTER, "iterations=3 audio_seconds=5"),
        (CLONE, "iterations=3 audio_seconds=10"),
        ("stop",),
    ]


# An ops report as tt-metal's profiler lays it out, written row by row here -- not by this module's
# `write_ops_report` and not from captured ops -- in the wheel's own column list (tracy's
# process_ops_logs.OPS_CSV_HEADER, with a dynamic "... MAX KERNEL SIZE [B]" column), signposts as
# tracy writes them (OP CODE = header, OP TYPE = signpost, the message in ATTRIBUTES), ATTRIBUTES with
# commas and quotes, empty cells where a row has no data, and two devices' rows.
TT_METAL_ROWS = [
    {"OP CODE": "start", "OP TYPE": "signpost", "HOST START TS": "1000"},
    {"OP CODE": "converter", "OP TYPE": "signpost", "ATTRIBUTES": "iterations=2 audio_seconds=1.5", "HOST START TS": "1100"},
    {"OP CODE": "MatmulDeviceOperation", "OP TYPE": "tt_dnn_device", "GLOBAL CALL COUNT": "1024", "DEVICE ID": "0",
     "DEVICE ARCH": "WORMHOLE_B0", "ATTRIBUTES": "{'program_config': 'MatmulMultiCoreReuseProgramConfig(in0_block_w=2, out_subblock_h=1)'; 'transpose_a': 'false'}",
     "MATH FIDELITY": "HiFi3", "CORE COUNT": "64", "DEVICE KERNEL DURATION [ns]": "1250000", "TENSIX DM 0 MAX KERNEL SIZE [B]": "4096"},
    {"OP CODE": "Conv2dDeviceOperation", "OP TYPE": "tt_dnn_device", "GLOBAL CALL COUNT": "2048", "DEVICE ID": "0",
     "DEVICE ARCH": "WORMHOLE_B0", "ATTRIBUTES": "{'sliding_window_config': 'batch_size=1, input_hw=(1,257)'}",
     "MATH FIDELITY": "HiFi3", "CORE COUNT": "56", "DEVICE KERNEL DURATION [ns]": "3000000"},
    {"OP CODE": "MatmulDeviceOperation", "OP TYPE": "tt_dnn_device", "GLOBAL CALL COUNT": "3072", "DEVICE ID": "1",
     "DEVICE ARCH": "WORMHOLE_B0", "MATH FIDELITY": "HiFi3", "CORE COUNT": "64", "DEVICE KERNEL DURATION [ns]": "750000"},
    {"OP CODE": "clone", "OP TYPE": "signpost", "ATTRIBUTES": "iterations=1 audio_seconds=3", "HOST START TS": "2000"},
    {"OP CODE": "LayerNormDeviceOperation", "OP TYPE": "tt_dnn_device", "GLOBAL CALL COUNT": "4096", "DEVICE ID": "0",
     "DEVICE ARCH": "WORMHOLE_B0", "MATH FIDELITY": "HiFi4", "CORE COUNT": "8", "DEVICE KERNEL DURATION [ns]": "200000"},
    {"OP CODE": "stop", "OP TYPE": "signpost", "HOST START TS": "3000"},
]  # fmt: skip


def test_reads_a_report_in_tt_metals_format(tmp_path: Path) -> None:
    from tracy.process_ops_logs import OPS_CSV_HEADER

    columns = [*OPS_CSV_HEADER[:46], "TENSIX DM 0 MAX KERNEL SIZE [B]", *OPS_CSV_HEADER[46:]]
    assert all(key in columns for row in TT_METAL_ROWS for key in row)
    path = tmp_path / "ops_perf_results_2026_12_04_22_00_00.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(TT_METAL_ROWS)
    converter, clone = split_models(read_ops_report(path))
    assert (converter.name, converter.iterations, converter.audio_seconds) == (CONVERTER, 2, 1.5)
    assert [(r.op_code, r.count, r.per_iteration, r.kernel_ms) for r in op_type_table(converter)] == [
        ("Conv2dDeviceOperation", 1, 0.5, 3.0),
        ("MatmulDeviceOperation", 2, 1.0, 2.0),
    ]
    assert converter.kernel_ms == 5.0 and converter.rtf == pytest.approx(2.5 / 1000 / 1.5)
    assert [op.device_id for op in converter.ops] == [0, 0, 1]
    assert (clone.name, clone.kernel_ms, [op.op_code for op in clone.ops]) == (CLONE, 0.2, ["LayerNormDeviceOperation"])
