# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""`python -m tests.faults`: run the porting-fault catalogue (see the package docstring)."""

from __future__ import annotations

import argparse
import queue
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from loguru import logger

from tests.faults import (
    REPO_ROOT,
    Fault,
    RunResult,
    Selection,
    apply_fault,
    baseline_problem,
    catalogue_problems,
    imports_from,
    kill_running,
    make_scratch_copy,
    restore_fault,
    run_selection,
    shared_data_dir,
)
from tests.faults.catalogue import FAULTS

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class FaultOutcome:
    fault: Fault
    result: RunResult | None  # None: not run (its selection's baseline failed)

    @property
    def status(self) -> str:
        if self.result is None:
            return "not run (baseline broken)"
        if self.result.timed_out:
            return "NOT CAUGHT (timeout)"
        return "caught" if not self.result.passed else "NOT CAUGHT"

    @property
    def caught(self) -> bool:
        return self.result is not None and not self.result.timed_out and not self.result.passed


class ScratchPool:
    """One scratch copy per worker; a worker borrows a copy for one run at a time."""

    def __init__(self, repo: Path, jobs: int, python: Path) -> None:
        self.copies: list[Path] = []
        try:
            for _ in range(jobs):
                copy = make_scratch_copy(repo)
                self.copies.append(copy)
                where = imports_from(copy, python, repo)
                if not where.is_relative_to(copy.resolve()):
                    raise RuntimeError(f"{copy} imports the port from {where}: faults would not reach the tests")
        except BaseException:
            self.remove()
            raise
        self._free: queue.Queue[Path] = queue.Queue()
        for copy in self.copies:
            self._free.put(copy)

    def run(self, work: Callable[[Path], T]) -> T:
        copy = self._free.get()
        try:
            return work(copy)
        finally:
            self._free.put(copy)

    def remove(self) -> None:
        for copy in self.copies:
            shutil.rmtree(copy, ignore_errors=True)


def _in_parallel(jobs: int, items: Sequence[T], work: Callable[[T], R]) -> list[R]:
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        return list(pool.map(work, items))
    except BaseException:  # Ctrl-C: start nothing more, end the runs in progress
        pool.shutdown(wait=False, cancel_futures=True)
        kill_running()
        raise
    finally:
        pool.shutdown(wait=True)


def _first_failure(result: RunResult) -> tuple[str, str]:
    """(test name without its path, failure message) of the first failure, or the exit code."""
    failed = result.failed_tests()
    if not failed:
        return (f"exit {result.returncode}", "")
    test, _, message = failed[0].partition(" - ")
    return test.split("::", 1)[-1], message


def _print_table(outcomes: list[FaultOutcome]) -> None:
    name_w = max(len("fault"), *(len(o.fault.name) for o in outcomes))
    file_w = max(len("file"), *(len(o.fault.file) for o in outcomes))
    stat_w = max(len(o.status) for o in outcomes)
    print(f"\n{'fault':<{name_w}}  {'file':<{file_w}}  {'caught?':<{stat_w}}  {'seconds':>7}  caught by")
    for o in outcomes:
        seconds = f"{o.result.seconds:7.1f}" if o.result else f"{'-':>7}"
        by = _first_failure(o.result)[0] if o.result and o.caught else ""
        print(f"{o.fault.name:<{name_w}}  {o.fault.file:<{file_w}}  {o.status:<{stat_w}}  {seconds}  {by}")
    # The message shows HOW a fault was caught: a wrong number, or a crash/unrelated (flaky) failure.
    print("\nhow each caught fault failed:")
    for o in outcomes:
        if o.caught:
            print(f"  {o.fault.name:<{name_w}}  {_first_failure(o.result)[1][:160]}")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.faults",
        description="Inject each catalogued porting fault into a scratch copy and check that the tests catch it.",
    )
    parser.add_argument("--list", action="store_true", help="print the catalogue and exit")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these faults")
    parser.add_argument("--jobs", type=int, default=1, help="parallel workers, each with its own scratch copy")
    parser.add_argument("--keep", action="store_true", help="leave the scratch copies (their paths are printed)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per pytest run; past it = NOT caught")
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="repository root (default: this checkout)")
    parser.add_argument("--python", type=Path, help="interpreter for the tests (default: <repo>/.venv/bin/python)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    return args


def _list(faults: Sequence[Fault]) -> None:
    for fault in faults:
        print(f"{fault.name}  [{fault.file}]  {fault.description}")
        print(f"    tests ({fault.selection.label}): {' '.join(fault.selection.args)}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None, faults: Sequence[Fault] = FAULTS) -> int:
    args = _parse(argv)
    repo = args.repo.resolve()
    if args.list:
        _list(faults)
        return 0
    chosen = list(faults)
    if args.only:
        known = {f.name for f in faults}
        unknown = [name for name in args.only if name not in known]
        if unknown:
            print(f"unknown fault(s): {', '.join(unknown)} (see --list)", file=sys.stderr)
            return 2
        chosen = [f for f in faults if f.name in args.only]
    problems = catalogue_problems(chosen, repo)
    if problems:
        print("the fault catalogue is stale (tests/faults/catalogue.py):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    python = (args.python or repo / ".venv/bin/python").absolute()  # not resolved: a venv's python is a symlink
    if not python.exists():
        print(f"no interpreter at {python} (run ./setup.sh or pass --python)", file=sys.stderr)
        return 2
    if shared_data_dir(repo) is None:
        logger.warning("OPENVOICE_SHARED_DATA is not set and ../shared/data is missing: the data tests will fail")

    start = time.monotonic()
    jobs = min(args.jobs, len(chosen))
    pool = ScratchPool(repo, jobs, python)
    if args.keep:
        print("scratch copies: " + " ".join(str(c) for c in pool.copies))
    try:
        selections = list(dict.fromkeys(f.selection for f in chosen))
        logger.info(f"{len(chosen)} faults, {len(selections)} baseline selections, {jobs} worker(s)")

        def baseline(selection: Selection) -> RunResult:
            result = pool.run(lambda copy: run_selection(selection, copy, python, args.timeout, repo))
            logger.info(f"baseline {selection.label}: exit {result.returncode} in {result.seconds:.1f} s")
            return result

        baselines = dict(zip(selections, _in_parallel(jobs, selections, baseline)))
        problems = {s: baseline_problem(s, r) for s, r in baselines.items()}
        broken = {s: baselines[s] for s, problem in problems.items() if problem}

        lock = threading.Lock()

        def run_fault(fault: Fault) -> FaultOutcome:
            if fault.selection in broken:
                return FaultOutcome(fault, None)

            def inject_and_test(copy: Path) -> RunResult:
                original = apply_fault(fault, copy)
                try:
                    return run_selection(fault.selection, copy, python, args.timeout, repo)
                finally:
                    restore_fault(fault, copy, original)

            outcome = FaultOutcome(fault, pool.run(inject_and_test))
            with lock:
                logger.info(f"{fault.name}: {outcome.status} in {outcome.result.seconds:.1f} s")
            return outcome

        outcomes = _in_parallel(jobs, chosen, run_fault)
    finally:
        if not args.keep:
            pool.remove()

    print("\nbaselines (unfaulted copy):")
    for selection, result in baselines.items():
        state = f"BROKEN: {problems[selection]}" if selection in broken else "pass"
        print(f"  {selection.label:<18} {result.seconds:7.1f} s  {' '.join(selection.args)}\n  {'':<18} -> {state}")
    for selection, result in broken.items():
        print(f"\n--- baseline {selection.label}: {problems[selection]}; its faults were not run:\n{result.tail(25)}")
    _print_table(outcomes)
    missed = [o for o in outcomes if o.result is not None and not o.caught]
    for o in missed:
        print(f"\n--- {o.fault.name} NOT caught ({o.fault.description}); {' '.join(o.fault.selection.args)}:")
        print(o.result.tail(8))
    caught = sum(o.caught for o in outcomes)
    print(
        f"\n{caught}/{len(outcomes)} faults caught, {len(missed)} not caught, "
        f"{len(broken)} broken baseline(s); wall time {time.monotonic() - start:.0f} s with {jobs} worker(s)"
    )
    return 0 if not missed and not broken else 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)  # a cancelled CI job: end the test runs, remove the copies
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: test runs ended, scratch copies removed (unless --keep)", file=sys.stderr)
        sys.exit(130)
