# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The root's stand-ins keep tt-metal's signatures and return shapes (the commits they follow are in
TRADEOFFS.md "tt-metal interfaces"): models/demos/openvoice calls them as it would inside tt-metal, so
a drift here would break it there.
"""

from __future__ import annotations

import ast
import csv
import inspect
import os
import random
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from models.common import utility_functions
from models.perf import device_perf_utils, perf_utils
from tests.ttnn import utils_for_testing

ROOT = Path(__file__).resolve().parents[1]

SIGNATURES = {
    utility_functions.comp_pcc: "(golden, calculated, pcc=0.99)",
    utility_functions.comp_allclose: "(golden, calculated, rtol=1e-05, atol=1e-08)",
    utility_functions.comp_equal: "(golden, calculated)",
    utility_functions.is_wormhole_b0: "()",
    utility_functions.is_grayskull: "()",
    utility_functions.is_blackhole: "()",
    utility_functions.run_for_wormhole_b0: "(reason_str='only runs for Wormhole B0')",
    utility_functions.skip_for_grayskull: "(reason_str='not working for Grayskull')",
    utility_functions.skip_for_blackhole: "(reason_str='not working for Blackhole')",
    utils_for_testing.assert_with_pcc: "(expected_pytorch_result, actual_pytorch_result, pcc=0.9999)",
    utils_for_testing.check_with_pcc: "(expected_pytorch_result, actual_pytorch_result, pcc=0.9999)",
    utils_for_testing.assert_allclose: "(expected_result, actual_result, rtol=1e-05, atol=1e-08)",
    utils_for_testing.assert_equal: "(expected_pytorch_result, actual_pytorch_result)",
    device_perf_utils.run_device_perf: "(command, subdir, num_iterations, cols, batch_size, op_name='', has_signposts=False, "
    "device_analysis_types=['device_kernel_duration'], op_support_count=None)",
    device_perf_utils.check_device_perf: "(post_processed_results, margin, expected_perf_cols, assert_on_fail=False)",
    device_perf_utils.prep_device_perf_report: "(model_name, batch_size, post_processed_results, expected_results, comments)",
    perf_utils.prep_perf_report: "(model_name, batch_size, inference_and_compile_time, inference_time, expected_compile_time, "
    "expected_inference_time, comments, inference_time_cpu=None)",
}
# tt-metal's root conftest.py fixtures: name -> (parameters, scope)
FIXTURES = {
    "device_params": (["request"], "function"),
    "device": (["request", "device_params"], "function"),
    "mesh_device": (["request", "device_params"], "function"),
    "reset_seeds": ([], "function"),
    "function_level_defaults": (["reset_seeds"], "function"),
    "is_ci_env": ([], "function"),
    "model_location_generator": ([], "session"),
}


def _bare(signature: inspect.Signature) -> str:
    """The signature without annotations (tt-metal's functions have none)."""
    return str(signature.replace(parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()], return_annotation=inspect.Signature.empty))


@pytest.mark.parametrize("function", list(SIGNATURES), ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_signature_is_tt_metal_s(function) -> None:
    assert _bare(inspect.signature(function)) == SIGNATURES[function]


def test_root_conftest_fixtures_have_tt_metal_s_names_parameters_and_scopes() -> None:
    tree = ast.parse((ROOT / "conftest.py").read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "") == "fixture":
                    scope = next((k.value.value for k in decorator.keywords if k.arg == "scope"), "function")
                    found[node.name] = ([a.arg for a in node.args.args], scope)
    assert {name: found.get(name) for name in FIXTURES} == FIXTURES


def test_reset_seeds_seeds_torch_numpy_and_random(reset_seeds) -> None:
    assert torch.initial_seed() == 213919
    assert np.random.get_state()[1][0] == np.random.RandomState(213919).get_state()[1][0]
    assert random.random() == random.Random(213919).random()


def test_model_location_generator_falls_back_to_the_model_version(model_location_generator) -> None:
    assert model_location_generator("checkpoints_v2", model_subdir="OpenVoice") == "checkpoints_v2"
    assert model_location_generator("x", download_if_ci_v2=True, ci_v2_timeout_in_s=1) == "x"


def test_is_ci_env(is_ci_env) -> None:
    assert is_ci_env is (os.getenv("CI") == "true")


def test_comp_functions_return_tt_metal_s_pairs() -> None:
    a = torch.arange(64, dtype=torch.float32)
    passed, value = utility_functions.comp_pcc(a, a + 0.01 * torch.sin(a))
    assert passed is True and isinstance(value, float) and 0.99 < value < 1.0
    assert utility_functions.comp_pcc(a, -a) == (False, pytest.approx(-1.0))
    for compare in (utility_functions.comp_allclose, utility_functions.comp_equal):
        passed, message = compare(a, a + 1)
        assert passed is False and message.startswith("Max ATOL Delta: 1.0, Max RTOL Delta: ")


def test_assert_with_pcc_returns_passed_and_the_pcc() -> None:
    a = torch.arange(64, dtype=torch.float32).reshape(8, 8)
    passed, pcc = utils_for_testing.assert_with_pcc(a, a + 0.01 * torch.cos(a), pcc=0.99)
    assert passed is True and isinstance(pcc, float) and pcc > 0.99
    with pytest.raises(AssertionError, match=r"list\(expected_pytorch_result.shape\)=\[8, 8\]"):
        utils_for_testing.assert_with_pcc(a, a.reshape(64))
    with pytest.raises(AssertionError):
        utils_for_testing.assert_with_pcc(a, torch.flip(a, [0]))
    assert utils_for_testing.check_with_pcc(a, a.reshape(64))[0] is False
    assert utils_for_testing.check_with_pcc(a, a) == (True, 1.0)


def test_arch_decorators_are_skipif_marks_on_a_wormhole(device) -> None:
    assert utility_functions.is_wormhole_b0() and not utility_functions.is_grayskull()
    mark = utility_functions.run_for_wormhole_b0()
    assert mark.name == "skipif" and mark.args == (False,) and mark.kwargs["reason"] == "only runs for Wormhole B0"
    assert utility_functions.skip_for_grayskull().args == (False,)


def _fake_tracy(monkeypatch: pytest.MonkeyPatch, durations: list[float]) -> list[dict]:
    """tracy's profiler entry points replaced: each run 'measures' the next duration."""
    calls: list[dict] = []
    common = types.SimpleNamespace(clear_profiler_runtime_artifacts=lambda: calls.append({"cleared": True}))

    def run_device_profiler(command, subdir, **kwargs):
        calls.append({"command": command, "subdir": subdir, **kwargs})

    def post_process_ops_log(subdir, columns, sum_vals=True, op_name="", has_signposts=False):
        calls.append({"columns": columns, "has_signposts": has_signposts, "op_name": op_name})
        return {column: durations[len([c for c in calls if "columns" in c]) - 1] for column in columns}

    model_log = types.SimpleNamespace(
        run_device_profiler=run_device_profiler,
        post_process_ops_log=post_process_ops_log,
        get_samples_per_s=lambda time_ns, num_samples: 1 / (time_ns * 1e-9) * num_samples,
    )
    monkeypatch.setitem(sys.modules, "tracy.common", common)
    monkeypatch.setitem(sys.modules, "tracy.process_model_log", model_log)
    return calls


def test_run_device_perf_returns_tt_metal_s_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_tracy(monkeypatch, [2e6, 4e6])
    results = device_perf_utils.run_device_perf("pytest x.py", "sub", 2, ["DEVICE KERNEL"], 2, has_signposts=True, op_support_count=6000)
    assert results == {
        "AVG DEVICE KERNEL SAMPLES/S": pytest.approx(2 / 3e-3),
        "MIN DEVICE KERNEL SAMPLES/S": pytest.approx(2 / 4e-3),
        "MAX DEVICE KERNEL SAMPLES/S": pytest.approx(2 / 2e-3),
        "AVG DEVICE KERNEL DURATION [ns]": 3e6,
        "MIN DEVICE KERNEL DURATION [ns]": 2e6,
        "MAX DEVICE KERNEL DURATION [ns]": 4e6,
    }
    runs = [c for c in calls if "command" in c]
    assert len(runs) == 2 and runs[0]["device_analysis_types"] == ["device_kernel_duration"] and runs[0]["op_support_count"] == 6000
    assert all(c["has_signposts"] and c["columns"] == ["DEVICE KERNEL DURATION [ns]"] for c in calls if "columns" in c)


def test_check_device_perf_thresholds_and_assert() -> None:
    from loguru import logger

    logged: list[str] = []
    handler = logger.add(logged.append, level="ERROR")
    results = {"AVG DEVICE KERNEL DURATION [ns]": 110.0}
    try:
        expected = device_perf_utils.check_device_perf(results, 0.05, {"AVG DEVICE KERNEL DURATION [ns]": 100.0})
    finally:
        logger.remove(handler)
    assert expected == {
        "Lower Threshold AVG DEVICE KERNEL DURATION [ns]": pytest.approx(95.0),
        "Upper Threshold AVG DEVICE KERNEL DURATION [ns]": pytest.approx(105.0),
    }
    assert any("AVG DEVICE KERNEL DURATION [ns] 110.0 is outside of expected range" in m for m in logged)
    with pytest.raises(AssertionError, match="outside of expected range"):
        device_perf_utils.check_device_perf(results, 0.05, {"AVG DEVICE KERNEL DURATION [ns]": 100.0}, assert_on_fail=True)
    device_perf_utils.check_device_perf(results, 0.2, {"AVG DEVICE KERNEL DURATION [ns]": 100.0}, assert_on_fail=True)


def _read_csv(path: Path) -> list[list[str]]:
    with open(path) as handle:
        return [[cell.strip() for cell in row] for row in csv.reader(handle)]


def test_prep_device_perf_report_writes_tt_metal_s_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    results = {"AVG DEVICE KERNEL DURATION [ns]": 3e6}
    expected = {"Lower Threshold AVG DEVICE KERNEL DURATION [ns]": 2.85e6, "Upper Threshold AVG DEVICE KERNEL DURATION [ns]": 3.15e6}
    device_perf_utils.prep_device_perf_report("ttnn_openvoice_clone", 1, results, expected, "10s")
    (path,) = tmp_path.glob("device_perf_ttnn_openvoice_clone_10s_*.csv")
    header, row = _read_csv(path)
    assert header == ["Model", "Setting", "Batch", "AVG DEVICE KERNEL DURATION [ns]",
                      "Lower Threshold AVG DEVICE KERNEL DURATION [ns]", "Upper Threshold AVG DEVICE KERNEL DURATION [ns]"]  # fmt: skip
    assert row == ["ttnn_openvoice_clone", "10s", "1", "3000000.0000", "2850000.0000", "3150000.0000"]


def test_prep_perf_report_writes_tt_metal_s_twelve_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    perf_utils.prep_perf_report("ttnn/openvoice", 2, 12.5, 0.5, 60.0, 3.0, "5s")
    (path,) = tmp_path.glob("perf_ttnn_openvoice_5s_*.csv")
    header, row = _read_csv(path)
    assert header == list(perf_utils.COLUMNS) and len(header) == 12
    assert row == ["ttnn/openvoice", "5s", "2", "12.50", "0.50", "12.00", "60.00", "0.5000", "3.0000", "4.0000", "unknown", "unknown"]
