# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Standalone stand-in for tt-metal's ``models/perf/device_perf_utils.py`` (this repository's root only).

Same names, signatures and return values as tt-metal's (commit eed09f269c3c, see TRADEOFFS.md
"tt-metal interfaces"), on the profiler front end the ttnn wheel ships (``tracy.process_model_log``):

* ``run_device_perf(command, subdir, num_iterations, cols, batch_size, op_name="", has_signposts=False,
  device_analysis_types=["device_kernel_duration"], op_support_count=None) -> dict`` (``op_support_count``:
  tt-metal main's keyword, passed by its yolov8s / yolov11 device perf tests, forwarded to the profiler): runs ``command`` under the device profiler
  ``num_iterations`` times, sums each ``<col> DURATION [ns]`` of the ops between the ``start`` / ``stop``
  signposts (``has_signposts``) and returns ``AVG|MIN|MAX <col> SAMPLES/S`` and ``AVG|MIN|MAX <col>
  DURATION [ns]`` (MIN samples/s from the MAX duration);
* ``check_device_perf(post_processed_results, margin, expected_perf_cols, assert_on_fail=False) -> dict``:
  ``Lower/Upper Threshold <col>`` = (1 -+ margin) * expected; an error is logged for every value outside,
  and asserted with ``assert_on_fail``;
* ``prep_device_perf_report(model_name, batch_size, post_processed_results, expected_results, comments)``:
  writes ``device_perf_<model>_<comments>_<YYYY_MM_DD>.csv`` (Model, Setting, Batch, each metric and its
  thresholds) in the working directory.

Not reproduced: tt-metal's benchmark-JSON upload (``save_partial_run_json``, CI infrastructure only).
"""

from __future__ import annotations

import json
import time
from typing import Any

from loguru import logger


def run_device_perf(
    command: str,
    subdir: str,
    num_iterations: int,
    cols: list[str],
    batch_size: int,
    op_name: str = "",
    has_signposts: bool = False,
    device_analysis_types: list[str] = ["device_kernel_duration"],  # noqa: B006 - tt-metal's signature
    op_support_count: int | None = None,
) -> dict:
    from tracy.common import clear_profiler_runtime_artifacts
    from tracy.process_model_log import get_samples_per_s, post_process_ops_log, run_device_profiler

    duration_cols = [f"{col} DURATION [ns]" for col in cols]
    samples_cols = [f"{col} SAMPLES/S" for col in cols]
    clear_profiler_runtime_artifacts()
    durations: dict[str, list[float]] = {col: [] for col in duration_cols}
    for _ in range(num_iterations):
        extra = {} if op_support_count is None else {"op_support_count": op_support_count}
        run_device_profiler(command, subdir, device_analysis_types=device_analysis_types, **extra)
        results = post_process_ops_log(subdir, duration_cols, op_name=op_name, has_signposts=has_signposts)
        for col in duration_cols:
            durations[col].append(float(results[col]))

    post_processed_results: dict[str, float] = {}
    for samples_col, duration_col in zip(samples_cols, duration_cols):
        values = durations[duration_col]
        average = sum(values) / len(values)
        post_processed_results[f"AVG {samples_col}"] = get_samples_per_s(average, batch_size)
        post_processed_results[f"MIN {samples_col}"] = get_samples_per_s(max(values), batch_size)
        post_processed_results[f"MAX {samples_col}"] = get_samples_per_s(min(values), batch_size)
        post_processed_results[f"AVG {duration_col}"] = average
        post_processed_results[f"MIN {duration_col}"] = min(values)
        post_processed_results[f"MAX {duration_col}"] = max(values)
    logger.info(
        f"\nTest: {command}\nPerformance statistics over {num_iterations} iterations\n"
        f"{json.dumps(post_processed_results, indent=4)}"
    )
    return post_processed_results


def check_device_perf(
    post_processed_results: dict, margin: float, expected_perf_cols: dict, assert_on_fail: bool = False
) -> dict:
    expected_results: dict[str, float] = {}
    passing = True
    for col, expected in expected_perf_cols.items():
        lower, upper = (1 - margin) * expected, (1 + margin) * expected
        expected_results[f"Lower Threshold {col}"] = lower
        expected_results[f"Upper Threshold {col}"] = upper
        value = post_processed_results[col]
        if not lower <= value <= upper:
            passing = False
            logger.error(f"{col} {value} is outside of expected range ({lower}, {upper})")
    if assert_on_fail:
        assert passing, "Some performance metrics are outside of expected range, see above for details."
    return expected_results


def _cell(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def prep_device_perf_report(
    model_name: str, batch_size: int, post_processed_results: dict, expected_results: dict, comments: str
) -> None:
    today = time.strftime("%Y_%m_%d")
    header, row = ["Model", "Setting", "Batch"], [model_name, comments, str(batch_size)]
    for key, value in post_processed_results.items():
        header.append(key)
        row.append(_cell(value))
        for bound in ("Lower", "Upper"):
            threshold = expected_results.get(f"{bound} Threshold {key}")
            if threshold is not None:
                header.append(f"{bound} Threshold {key}")
                row.append(_cell(threshold))
    with open(f"device_perf_{model_name}_{comments}_{today}.csv", "w") as csvfile:
        csvfile.write(", ".join(header) + "\n" + ", ".join(row) + "\n")
