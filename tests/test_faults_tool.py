# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Mechanics of the porting-fault tool (`python -m tests.faults`), without running the model's tests.

The catalogue must fit today's `tt/` tree (every snippet exactly once, unique names, existing
test files); a stale snippet must be reported by name; applying and restoring a fault must
leave a scratch copy byte-identical; and the runner must classify caught / NOT caught /
timeout / broken baseline correctly (checked on a toy repository with toy tests).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from tests.faults import (
    COPIED_ENTRIES,
    REPO_ROOT,
    Fault,
    Selection,
    StaleFault,
    apply_fault,
    catalogue_problems,
    make_scratch_copy,
    restore_fault,
    run_selection,
    tree_digest,
)
from tests.faults.__main__ import main
from tests.faults.catalogue import FAULTS


def test_every_snippet_occurs_once_in_todays_tt_tree() -> None:
    assert catalogue_problems(FAULTS) == []


def test_catalogue_names_are_unique_and_selections_exist() -> None:
    names = [f.name for f in FAULTS]
    assert len(names) == len(set(names)) >= 20
    for fault in FAULTS:
        files = [arg.split("::")[0] for arg in fault.selection.args if arg.endswith(".py") or "::" in arg]
        assert files, f"{fault.name}: its selection names no test file"
        for file in files:
            assert (REPO_ROOT / file).is_file(), f"{fault.name}: {file} does not exist"


def test_stale_snippets_are_reported_by_name() -> None:
    selection = Selection("none", ("tests/test_faults_tool.py",))
    missing = Fault("gone", "tt/wavenet.py", "this line is not in wavenet.py", "x", "stale", selection)
    twice = Fault("twice", "tt/wavenet.py", "ttnn.", "ttnn.", "ambiguous", selection)
    problems = catalogue_problems([missing, twice, missing])
    assert any("'gone'" in p and "0 times" in p for p in problems), problems
    assert any("'twice'" in p and "times" in p for p in problems), problems
    assert any("'gone' is used twice" in p for p in problems), problems
    with pytest.raises(StaleFault, match="'gone'"):
        apply_fault(missing, REPO_ROOT)


def test_tool_stops_on_a_stale_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    stale = Fault("gone", "tt/wavenet.py", "this line is not in wavenet.py", "x", "stale", Selection("none", ()))
    assert main([], faults=[stale]) == 2
    assert "'gone'" in capsys.readouterr().err


def test_apply_restore_round_trip_leaves_the_copy_identical(tmp_path: Path) -> None:
    scratch = make_scratch_copy(REPO_ROOT, parent=tmp_path)
    assert sorted(p.name for p in scratch.iterdir()) == sorted(COPIED_ENTRIES)  # no .venv, .git, caches
    before = tree_digest(scratch)
    for fault in FAULTS:
        path = scratch / fault.path
        original = apply_fault(fault, scratch)
        faulty = path.read_text()
        assert faulty != original and fault.replace in faulty, fault.name
        compile(faulty, str(path), "exec")  # a fault must still import, or only a crash would catch it
        restore_fault(fault, scratch, original)
    assert tree_digest(scratch) == before


def _toy_repository(root: Path) -> Path:
    """A repository with the copied layout, one `tt` module and toy tests of it."""
    tt = root / "models/demos/openvoice/tt"
    tt.mkdir(parents=True)
    for package in (root / "models", root / "models/demos", root / "models/demos/openvoice", tt):
        (package / "__init__.py").write_text("")
    (tt / "toy.py").write_text("SLOPE = 0.1\nBIAS = 1.0\n")
    (root / "mock_wormhole").mkdir()
    (root / "mock_wormhole/__init__.py").write_text("")
    (root / "tests").mkdir()
    (root / "tests/test_toy.py").write_text(
        textwrap.dedent(
            """
            from models.demos.openvoice.tt import toy

            def test_slope():
                assert toy.SLOPE == 0.1

            def test_nothing_about_bias():
                assert True

            def test_broken():
                assert False
            """
        )
    )
    (root / "conftest.py").write_text("")
    (root / "pytest.ini").write_text("[pytest]\n")
    return root


def test_runner_reports_caught_missed_and_broken_baselines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _toy_repository(tmp_path / "repo")
    slope, bias = (Selection(k, ("tests/test_toy.py", "-k", k)) for k in ("slope", "bias"))
    broken = Selection("broken", ("tests/test_toy.py", "-k", "broken"))
    empty = Selection("empty", ("tests/test_toy.py", "-k", "no_such_test"))
    renamed = Selection("renamed", ("tests/test_toy.py", "-k", "slope or renamed_test"))  # one term matches nothing
    faults = [
        Fault("slope-wrong", "tt/toy.py", "SLOPE = 0.1", "SLOPE = 0.2", "caught", slope),
        Fault("bias-dropped", "tt/toy.py", "BIAS = 1.0", "BIAS = 0.0", "missed", bias),
        Fault("on-broken-test", "tt/toy.py", "SLOPE = 0.1", "SLOPE = 0.3", "baseline fails", broken),
        Fault("on-no-test", "tt/toy.py", "BIAS = 1.0", "BIAS = 2.0", "selects nothing", empty),
        Fault("on-renamed-test", "tt/toy.py", "BIAS = 1.0", "BIAS = 3.0", "a -k term is stale", renamed),
    ]
    before = tree_digest(repo)
    code = main(["--repo", str(repo), "--python", sys.executable, "--jobs", "2", "--timeout", "60"], faults=faults)
    out = capsys.readouterr().out
    assert code == 1
    names = {f.name for f in faults}
    rows = {line.split()[0]: line for line in out.splitlines() if line.split(" ")[0] in names}  # the table's rows
    assert " caught " in rows["slope-wrong"] and "test_slope" in rows["slope-wrong"]
    assert "NOT CAUGHT" in rows["bias-dropped"]
    for name in ("on-broken-test", "on-no-test", "on-renamed-test"):
        assert "baseline broken" in rows[name], rows[name]
    assert "fails unfaulted (exit 1)" in out and "selects no test (exit 5)" in out
    assert "-k term(s) renamed_test match no test" in out
    assert tree_digest(repo) == before  # faults go to scratch copies only


def test_timeout_counts_as_not_caught(tmp_path: Path) -> None:
    repo = _toy_repository(tmp_path / "repo")
    (repo / "tests/test_slow.py").write_text("import time\n\ndef test_slow():\n    time.sleep(60)\n")
    result = run_selection(Selection("slow", ("tests/test_slow.py",)), repo, Path(sys.executable), timeout=1, repo=repo)
    assert result.timed_out and not result.passed and result.seconds < 30
