# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The folder's boundaries and layers, as its README's "Layout" section states them.

* Boundary: every import in models/demos/openvoice names the folder itself, the standard library, a
  third-party package, or one of the tt-metal modules in `TT_METAL_MODULES` (each with the tt-metal path
  it stands for). Nothing else of this repository (the mock Wormhole, the root's stand-ins beyond those)
  may be imported: inside a tt-metal checkout it would not exist.
* Layers: the README lists the sub-packages bottom to top; an import may only go to its own layer or
  one below it (at any depth of the code: a lazy import inside a function counts too), and no set of
  files imports each other in a loop.
* Every module imports in a fresh interpreter (a loop that breaks at import time shows here too).
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

from models.demos.openvoice.tests.shared_data import REPO_ROOT

PACKAGE = "models.demos.openvoice"
FOLDER = REPO_ROOT / "models" / "demos" / "openvoice"
# tt-metal's own modules the folder uses, with the path each has in tt-metal (and here, at the root,
# as a standalone stand-in): nothing else outside the folder but the standard library and third-party packages.
TT_METAL_MODULES = {
    "tests.ttnn.utils_for_testing": "tests/ttnn/utils_for_testing.py",
    "models.common.utility_functions": "models/common/utility_functions.py",
    "models.perf.device_perf_utils": "models/perf/device_perf_utils.py",
    "models.perf.perf_utils": "models/perf/perf_utils.py",
}
# Distributions that are this repository itself (its editable install provides `models`, `tests`,
# `mock_wormhole`): their packages are not third-party.
OWN_DISTRIBUTIONS = {"openvoice-ttnn", "openvoice_ttnn"}


@functools.lru_cache(maxsize=None)
def _modules() -> dict[str, Path]:
    """Dotted name -> file of every Python module in the folder."""
    names = {}
    for path in sorted(FOLDER.rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _imports(path: Path, module: str) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement and literal `importlib.import_module` call."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.append((base, node.lineno))
            # `from package import submodule` imports the submodule
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names if f"{base}.{alias.name}" in _modules()]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append((node.args[0].value, node.lineno))
    return found


@functools.lru_cache(maxsize=None)
def _distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _third_party(top: str) -> bool:
    distributions = _distributions().get(top, [])
    return bool(distributions) and not set(distributions) & OWN_DISTRIBUTIONS


def test_imports_from_outside_the_folder_are_stdlib_third_party_or_tt_metal() -> None:
    offending = []
    for module, path in _modules().items():
        for name, line in _imports(path, module):
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                continue
            top = name.split(".")[0]
            if name in TT_METAL_MODULES or top in sys.stdlib_module_names or _third_party(top):
                continue
            offending.append(f"{path.relative_to(REPO_ROOT)}:{line}: {name}")
    assert not offending, "imports that exist neither in tt-metal nor as packages:\n" + "\n".join(offending)


def test_tt_metal_stand_ins_exist_at_tt_metal_paths() -> None:
    for module, path in TT_METAL_MODULES.items():
        assert (REPO_ROOT / path).is_file(), f"{module}: the root's stand-in must live at tt-metal's path {path}"


def layer_order() -> list[str]:
    """The README's "Layers, bottom to top: a -> b -> ..." line, as sub-package names."""
    text = (FOLDER / "README.md").read_text()
    match = re.search(r"Layers, bottom to top: (.+)", text)
    assert match, "models/demos/openvoice/README.md must state 'Layers, bottom to top: a -> b -> ...'"
    return [name.strip(" `.") for name in match.group(1).split("->")]


def _layer(module: str, order: list[str]) -> int:
    rest = module[len(PACKAGE) + 1 :].split(".") if module != PACKAGE else [""]
    if len(rest) == 1:  # a top-level file of the folder (conftest.py, __init__.py): the top layer
        return len(order)
    assert rest[0] in order, f"{module}: sub-package {rest[0]!r} is missing from the README's layer line {order}"
    return order.index(rest[0])


@functools.lru_cache(maxsize=None)
def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for name, _ in _imports(path, module):
            target = name
            while target and target not in modules:  # `pkg.mod.Name` -> `pkg.mod`
                target = target.rpartition(".")[0]
            if target and target != module and not modules[target].name == "__init__.py":
                graph[module].add(target)
    return graph


def test_imports_follow_the_readme_layer_order() -> None:
    order = layer_order()
    against = [
        f"{module} ({order[_layer(module, order)] if _layer(module, order) < len(order) else 'top'}) imports {target} "
        f"({order[_layer(target, order)]})"
        for module, targets in _graph().items()
        for target in sorted(targets)
        if _layer(target, order) > _layer(module, order)
    ]
    assert not against, "imports that run back up the layers:\n" + "\n".join(against)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_loop() -> None:
    cycles = _cycles(_graph())
    assert not cycles, f"modules importing each other in a loop: {cycles}"


def test_cycle_finder_finds_a_loop() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


PROBE = """
import importlib, json, sys
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as error:
        failed[name] = f"{type(error).__name__}: {error}"
print(json.dumps(failed))
"""


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    names = [m for m in _modules() if not m.endswith(("conftest", "__main__"))]
    proc = subprocess.run([sys.executable, "-c", PROBE, *names], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    failed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not failed, failed


def test_product_code_reads_no_test_data_variable() -> None:
    """Only the tests (tests/, demo targets) may find the test data through its environment variable."""
    from models.demos.openvoice.tests.shared_data import ENV_VAR

    readers = []
    for module, path in _modules().items():
        if ".tests" in module or module.endswith("demo.demo") or module.endswith("conftest"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and any(isinstance(a, ast.Constant) and a.value == ENV_VAR for a in node.args):
                readers.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == ENV_VAR:
                readers.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert not readers, f"product code reading {ENV_VAR}: {readers}"
