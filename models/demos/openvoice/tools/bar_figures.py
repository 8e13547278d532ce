# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Re-measure the accuracy bars: the worst figure each checked output reached in a test run.

    OPENVOICE_FIGURES=/tmp/figures.jsonl ./run_tests.sh models/demos/openvoice/tests
    python -m models.demos.openvoice.tools.bar_figures /tmp/figures.jsonl

`tests/helpers.py assert_items_close` appends one JSON line per check (name, test, the bar it was
held to, the per-item figures) when OPENVOICE_FIGURES is set. This prints, per check name, the worst
PCC and max error relative to the scale over every item of every test, the bar, and the bar's
margin over the measurement (bar error / measured error, on 1 - PCC and on max_rel): a margin far
above 2 is a bar a fault can hide under; below 1 is a failing check.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path


def worst_figures(path: Path) -> dict[str, dict]:
    """name -> {"pcc": worst, "max_rel": worst, "bar": the loosest bar seen, "tests": set of test ids}."""
    found: dict[str, dict] = defaultdict(lambda: {"pcc": 1.0, "max_rel": 0.0, "bar_pcc": 1.0, "bar_rel": 0.0, "tests": set()})
    for line in path.read_text().splitlines():
        record = json.loads(line)
        entry = found[record["name"]]
        entry["tests"].add(record["test"])
        entry["bar_pcc"] = min(entry["bar_pcc"], record["bar"]["pcc"])
        entry["bar_rel"] = max(entry["bar_rel"], record["bar"]["max_rel"])
        for item in record["items"]:
            entry["pcc"] = min(entry["pcc"], item["pcc"])
            entry["max_rel"] = max(entry["max_rel"], item["max_rel"], item["first"], item["last"], item["padded"])
    return dict(found)


def _margin(bar: float, measured: float) -> str:
    return "exact" if measured == 0 else f"{bar / measured:.1f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("figures", type=Path, help="the JSON lines OPENVOICE_FIGURES collected")
    args = parser.parse_args(argv)
    rows = worst_figures(args.figures)
    print(f"{'check':<44} {'1 - PCC':>9} {'bar':>9} {'margin':>7}  {'worst rel':>9} {'bar':>8} {'margin':>7}  tests")
    for name in sorted(rows):
        r = rows[name]
        pcc_margin = _margin(1 - r["bar_pcc"], 1 - r["pcc"])
        rel_margin = _margin(r["bar_rel"], r["max_rel"])
        print(
            f"{name[:44]:<44} {1 - r['pcc']:>9.1e} {1 - r['bar_pcc']:>9.1e} {pcc_margin:>7}  {r['max_rel']:>9.2e} "
            f"{r['bar_rel']:>8.1e} {rel_margin:>7}  {len(r['tests'])}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
