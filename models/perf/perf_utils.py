# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Standalone stand-in for tt-metal's ``models/perf/perf_utils.py`` (this repository's root only).

``prep_perf_report`` with tt-metal's signature (commit 0d32ee4daff5, see TRADEOFFS.md "tt-metal
interfaces"): writes ``perf_<model>_<comments>_<YYYY_MM_DD>.csv`` in the working directory with
tt-metal's twelve columns; it neither logs nor asserts (the calling test does). Not reproduced:
the benchmark-JSON upload of tt-metal's CI.
"""

from __future__ import annotations

import time

COLUMNS = (
    "Model",
    "Setting",
    "Batch",
    "First Run (sec)",
    "Second Run (sec)",
    "Compile Time (sec)",
    "Expected Compile Time (sec)",
    "Inference Time (sec)",
    "Expected Inference Time (sec)",
    "Throughput (batch*inf/sec)",
    "Inference Time CPU (sec)",
    "Throughput CPU (batch*inf/sec)",
)


def prep_perf_report(
    model_name: str,
    batch_size: int,
    inference_and_compile_time: float,
    inference_time: float,
    expected_compile_time: float,
    expected_inference_time: float,
    comments: str,
    inference_time_cpu: float = None,
) -> None:
    today = time.strftime("%Y_%m_%d")
    compile_time = inference_and_compile_time - inference_time
    cpu = ("unknown", "unknown") if not inference_time_cpu else (f"{inference_time_cpu:.4f}", f"{batch_size / inference_time_cpu:.4f}")
    values = (
        model_name,
        comments,
        str(batch_size),
        f"{inference_and_compile_time:.2f}",
        f"{inference_time:.2f}",
        f"{compile_time:.2f}",
        f"{expected_compile_time:.2f}",
        f"{inference_time:.4f}",
        f"{expected_inference_time:.4f}",
        f"{batch_size / inference_time:.4f}",
        *cpu,
    )
    with open(f"perf_{model_name.replace('/', '_')}_{comments}_{today}.csv", "w") as csvfile:
        csvfile.write(", ".join(COLUMNS) + "\n" + ", ".join(values) + "\n")
