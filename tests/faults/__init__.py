# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Porting-fault catalogue: inject realistic porting mistakes into `tt/` and check that the tests notice.

    .venv/bin/python -m tests.faults                 # every fault, one worker
    .venv/bin/python -m tests.faults --jobs 2        # two workers (CI has 2 cores), each its own scratch copy
    .venv/bin/python -m tests.faults --list          # the catalogue: name, file, mistake, selection
    .venv/bin/python -m tests.faults --only flow-post-bias-dropped wavenet-gate-halves-swapped
    .venv/bin/python -m tests.faults --keep          # leave the scratch copies for a look

What it does. The repository (``models/``, ``tests/``, ``conftest.py``, ``pytest.ini``; never
``.venv`` or ``.git``) is copied once per worker into a scratch directory. Every test selection
the chosen faults use is first run on the UNFAULTED copy: it must pass (and select at least one
test, and every term of a ``-k a or b`` expression must match a test that ran: a renamed test
would otherwise drop out of the selection silently), else the selection is reported broken and
its faults are not run, because a fault "caught" by a test that already fails proves nothing. Then, per fault: the one edit is applied to the
scratch copy, the selection runs in a subprocess
(``<repo>/.venv/bin/python -m pytest -x -q -p no:cacheprovider <selection>``, cwd and
PYTHONPATH = the scratch copy, OPENVOICE_SHARED_DATA passed through), and the file is restored.
Caught = the selection fails (an assertion, an exception, a shape error: anything non-zero);
NOT caught = it passes; a run past ``--timeout`` is killed and counts as NOT caught (reported
as a timeout). The table lists fault, file, result, seconds and the first failing test; the
exit code is non-zero if any fault is not caught, any baseline fails, or the catalogue is
stale (a snippet that does not occur exactly once in today's file: the tool stops before
running anything and names the fault).

Adding a fault (the habit: every new or changed `tt/` module adds its faults here, in
``catalogue.py``, in the same change):

1. Pick a real mistake a port can make and the tests might miss: a dropped bias, a wrong slope,
   a swapped pair of halves, a mask left out, an off-by-one in padding or taps, a batch-order
   mix-up, a fold applied twice. Prefer faults that keep shapes right (those are the ones
   only numbers can catch) over faults that crash.
2. Copy an exact snippet from the `tt/` file (path relative to models/demos/openvoice, e.g.
   ``tt/conv.py``; ``demo/backends.py`` for the TTNN backend; whitespace included; several lines are fine)
   that occurs exactly once in it, and write its faulty replacement. The replacement must
   still import and run: the fault has to reach the numbers.
3. Name the tests that should notice it as pytest arguments (node ids, a file plus
   ``-k``), preferably one of the shared ``Selection`` constants: faults sharing a selection
   share its baseline run. Keep selections narrow; each fault re-runs its whole selection.
4. ``.venv/bin/python -m pytest tests/test_faults_tool.py -q -p no:cacheprovider`` (fast: every
   snippet occurs once, names are unique), then ``.venv/bin/python -m tests.faults --only <name>``.
   A fault that is NOT caught is a finding for the tests, not a reason to drop the fault.

When a `tt/` file is edited, its snippets may go stale: the tool then fails loudly naming the
fault; update the snippet to today's code (keeping the mistake it models).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = "models/demos/openvoice"
# What a scratch copy holds: the code and the test configuration, nothing built or cached.
COPIED_ENTRIES = ("models", "tests", "mock_wormhole", "conftest.py", "pytest.ini")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "generated")


@dataclass(frozen=True)
class Selection:
    """The tests that should notice a fault: a label (for the report) and pytest arguments."""

    label: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Fault:
    """One porting mistake: replace the (unique) snippet `find` of `MODEL_DIR/file` with `replace`."""

    name: str
    file: str  # relative to MODEL_DIR: tt/<module>.py, or demo/backends.py for the TTNN backend
    find: str
    replace: str
    description: str
    selection: Selection

    @property
    def path(self) -> str:
        """Repository-relative path of the edited file."""
        return f"{MODEL_DIR}/{self.file}"


class StaleFault(RuntimeError):
    """A fault's snippet does not occur exactly once in its file (the catalogue is out of date)."""


def snippet_problem(fault: Fault, root: Path) -> str | None:
    """Why `fault` cannot be applied to the tree at `root` (stale snippet, missing file), or None."""
    path = root / fault.path
    if not path.is_file():
        return f"fault {fault.name!r}: {fault.path} does not exist"
    count = path.read_text().count(fault.find)
    if count != 1:
        first = fault.find.strip().splitlines()[0] if fault.find.strip() else repr(fault.find)
        return f"fault {fault.name!r}: snippet occurs {count} times in {fault.path} (must be once): {first!r}"
    if fault.find == fault.replace:
        return f"fault {fault.name!r}: the replacement equals the snippet (no fault)"
    return None


def catalogue_problems(faults: Sequence[Fault], root: Path = REPO_ROOT) -> list[str]:
    """Every reason the catalogue does not fit the tree at `root`: duplicate names, stale snippets."""
    problems = []
    seen: set[str] = set()
    for fault in faults:
        if fault.name in seen:
            problems.append(f"fault name {fault.name!r} is used twice")
        seen.add(fault.name)
        problem = snippet_problem(fault, root)
        if problem:
            problems.append(problem)
    return problems


def apply_fault(fault: Fault, root: Path) -> str:
    """Write the fault into the tree at `root`; returns the original file text (for `restore_fault`)."""
    problem = snippet_problem(fault, root)
    if problem:
        raise StaleFault(problem)
    path = root / fault.path
    original = path.read_text()
    path.write_text(original.replace(fault.find, fault.replace, 1))
    return original


def restore_fault(fault: Fault, root: Path, original: str) -> None:
    """Put back the file text `apply_fault` returned."""
    (root / fault.path).write_text(original)


def make_scratch_copy(source: Path = REPO_ROOT, parent: Path | None = None) -> Path:
    """A fresh copy of the repository's code and test configuration (no .venv, .git, caches)."""
    scratch = Path(tempfile.mkdtemp(prefix="openvoice-faults-", dir=parent))
    for entry in COPIED_ENTRIES:
        src = source / entry
        if src.is_dir():
            shutil.copytree(src, scratch / entry, ignore=_IGNORED, symlinks=True)
        elif src.is_file():
            shutil.copy2(src, scratch / entry)
        else:
            raise FileNotFoundError(f"{src} is missing: is {source} the repository root?")
    return scratch


def tree_digest(root: Path, entries: Iterable[str] = COPIED_ENTRIES) -> str:
    """sha256 over the relative paths and contents of every file under `entries` (caches skipped)."""
    digest = hashlib.sha256()
    for entry in entries:
        base = root / entry
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def shared_data_dir(repo: Path = REPO_ROOT) -> str | None:
    """OPENVOICE_SHARED_DATA as run_tests.sh sets it: the environment's, else ../shared/data."""
    value = os.environ.get("OPENVOICE_SHARED_DATA")
    if value:
        return value
    default = repo.parent / "shared" / "data"
    return str(default.resolve()) if default.is_dir() else None


def subprocess_env(scratch: Path, repo: Path = REPO_ROOT) -> dict[str, str]:
    """The test environment of a scratch run: the caller's, with the scratch copy on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(scratch)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no .pyc of a faulty file can outlive its fault
    env.setdefault("TT_LOGGER_LEVEL", "error")  # as run_tests.sh: tt-metal logs would bury the summary
    env["COLUMNS"] = "400"  # pytest's short summary keeps each failure's message only if it fits the width
    data = shared_data_dir(repo)
    if data:
        env["OPENVOICE_SHARED_DATA"] = data
    return env


@dataclass
class RunResult:
    """One pytest subprocess: exit code (None = killed at the timeout), seconds, output."""

    returncode: int | None
    seconds: float
    output: str

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    @property
    def passed(self) -> bool:
        return self.returncode == 0

    def failed_tests(self) -> list[str]:
        """The FAILED / ERROR lines of pytest's short summary (-ra), e.g. "FAILED path::test - msg"."""
        return [line for line in self.output.splitlines() if line.startswith(("FAILED ", "ERROR "))]

    def ran_tests(self) -> list[str]:
        """Node ids of every test the short summary lists (-rap lists the passed ones)."""
        ids = []
        for line in self.output.splitlines():
            word, _, rest = line.partition(" ")
            if word in ("PASSED", "FAILED", "ERROR", "XFAIL", "XPASS") and "::" in rest:
                ids.append(rest.split(" - ")[0])
        return ids

    def tail(self, lines: int = 15) -> str:
        """The last lines of the output; the progress line's padding to COLUMNS squeezed out."""
        text = self.output.rstrip().splitlines()[-lines:]
        return "\n".join(" ".join(line.split()) if line.endswith("%]") else line for line in text)


# Live test processes, so an interrupted tool can end them (they run in their own sessions,
# out of reach of the terminal's Ctrl-C).
_RUNNING: set[subprocess.Popen] = set()
_RUNNING_LOCK = threading.Lock()


def kill_running() -> None:
    """Kill the process group of every test run still in progress (only the ones this tool started)."""
    with _RUNNING_LOCK:
        for process in _RUNNING:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def pytest_command(python: Path, selection: Selection) -> list[str]:
    # -rap: the short summary names every test that ran (passed ones too, without their output), see `baseline_problem`.
    return [str(python), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-rap", *selection.args]


def keyword_terms(selection: Selection) -> list[str]:
    """The terms of a ``-k a or b or c`` selection (empty for other expressions or no -k)."""
    args = list(selection.args)
    if "-k" not in args or args.index("-k") + 1 >= len(args):
        return []
    terms = [term.strip() for term in args[args.index("-k") + 1].split(" or ")]
    return terms if all(term.isidentifier() and term not in ("and", "not") for term in terms) else []


def baseline_problem(selection: Selection, result: RunResult) -> str | None:
    """Why an unfaulted run cannot vouch for its selection, or None: it failed, timed out, selected
    nothing (exit 5), or one of its -k terms matched no test (a renamed test drops out silently)."""
    if result.timed_out:
        return "timeout"
    if result.returncode == 5:
        return "selects no test (exit 5)"
    if not result.passed:
        return f"fails unfaulted (exit {result.returncode})"
    ran = [test.lower() for test in result.ran_tests()]
    stale = [term for term in keyword_terms(selection) if not any(term.lower() in test for test in ran)]
    if stale:
        return f"-k term(s) {', '.join(stale)} match no test that ran (renamed or removed?)"
    return None


def run_selection(
    selection: Selection, scratch: Path, python: Path, timeout: float, repo: Path = REPO_ROOT
) -> RunResult:
    """Run the selection's tests in the scratch copy; a run past `timeout` s is killed (its process group)."""
    start = time.monotonic()
    process = subprocess.Popen(
        pytest_command(python, selection),
        cwd=scratch,
        env=subprocess_env(scratch, repo),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: a timeout also ends the tests' children
    )
    with _RUNNING_LOCK:
        _RUNNING.add(process)
    try:
        output, _ = process.communicate(timeout=timeout)
        returncode: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        returncode = None
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(process)
    return RunResult(returncode, time.monotonic() - start, output or "")


def imports_from(scratch: Path, python: Path, repo: Path = REPO_ROOT) -> Path:
    """Where the scratch environment imports the `tt` package from (must be the scratch copy)."""
    code = "import models.demos.openvoice.tt as tt; print(tt.__file__)"
    env = subprocess_env(scratch, repo)
    out = subprocess.run([str(python), "-c", code], cwd=scratch, env=env, capture_output=True, text=True, check=True)
    return Path(out.stdout.strip().splitlines()[-1]).resolve()
