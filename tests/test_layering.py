"""Layering: product code (tt/, the CLI and pipeline, tools, benchmarks, text frontend) never imports the
`tests` package or the model's test helpers. Device opening (card or mock), the mock harness and
the graph report live in `mock_wormhole`, where both the product and the tests use them.

Checked in a fresh interpreter, so modules the test session already imported cannot hide an import.
"""

from __future__ import annotations

import json
import subprocess
import sys

from models.demos.openvoice.tests.shared_data import REPO_ROOT

PRODUCT_MODULES = (
    "models.demos.openvoice.tt.backend",
    "models.demos.openvoice.tt.melo_tts",
    "models.demos.openvoice.demo.cli",
    "models.demos.openvoice.demo.pipeline",
    "models.demos.openvoice.demo.benchmark_clone",
    "models.demos.openvoice.demo.benchmark_converter",
    "models.demos.openvoice.demo.benchmark_tts",
    "models.demos.openvoice.tools.check_golden",
    "models.demos.openvoice.tools.golden_tts",
    "models.demos.openvoice.tools.perf_report",
    "models.demos.openvoice.tools.run_report",
    "models.demos.openvoice.eval.wer",
    "models.demos.openvoice.eval.similarity",
    "models.demos.openvoice.demo.speak",
    "models.demos.openvoice.demo.random_weights",
    "models.demos.openvoice.text.frontend",
    "mock_wormhole",
)
FORBIDDEN = ("tests", "models.demos.openvoice.tests")

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def test_product_code_does_not_import_the_tests_package() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *PRODUCT_MODULES],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    offending = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert not offending, f"product modules import test code: {offending}"
