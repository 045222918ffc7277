"""The import graph of the `ccer` package has no cycles (ARCHITECTURE.md, "No import cycles": infrastructure on
the ground floor, domains above, web/API/CLI on top), and the public ledger format stands on its own.

The graph is read from the source with `ast`, not by importing: every `import` and `from … import …`, at module
level and inside functions (an import moved into a function to dodge a cycle is still a cycle), relative imports
resolved. `from pkg import name` is an edge to the module `pkg.name` when there is one, else to `pkg` itself (its
`__init__.py`). Imports under `if TYPE_CHECKING:` never run and are left out; so are dynamic imports
(`importlib.import_module`, the CLI's lazy commands), which `ast` cannot resolve.
"""
from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: cycles known and left for their owners to remove, as sets of modules. Empty: there are none today. A cycle
#: listed here is tolerated only exactly (the same modules); anything new, or a listed one that grows, fails.
TOLERATED: list[frozenset[str]] = []


# ---- the graph -----------------------------------------------------------------------------------------------


def modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by the name of its `__init__.py`'s folder)."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(name: str, path: Path, known: dict[str, Path], package: str) -> list[tuple[str, int]]:
    """(module imported, line) for every import of a module of `package` in one file."""
    is_package = path.name == "__init__.py"
    found: list[tuple[str, int]] = []

    def owner(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == package and (target := owner(alias.name)):
                    found.append((target, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, one level up per extra dot
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] == package:
                for alias in node.names:
                    target = f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else owner(source)
                    if target:
                        found.append((target, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return found


def extension_modules(root: Path, package: str) -> dict[str, Path]:
    """The package's compiled modules by dotted name (a C source beside the Python modules, built by setup.py):
    they import nothing of the package."""
    return {".".join(path.relative_to(root).with_suffix("").parts): path for path in sorted((root / package).rglob("*.c"))}


def import_graph(root: Path = ROOT, package: str = "ccer") -> dict[str, dict[str, int]]:
    """module -> {module it imports: the line of the first such import}."""
    known = {**extension_modules(root, package), **modules(root, package)}
    graph: dict[str, dict[str, int]] = {m: {} for m in known}
    for name, path in known.items():
        if path.suffix != ".py":
            continue
        for target, line in imports(name, path, known, package):
            if target != name:
                graph[name].setdefault(target, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, edges = work[-1]
            for w in edges:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(graph[w])))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = set()
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.add(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        out.append(frozenset(component))
    return out


def shortest_cycle(graph: dict[str, dict[str, int]], component: frozenset[str]) -> list[str]:
    """One shortest cycle through the component's first module, as a path that returns to its start."""
    start = min(component)
    parent: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in graph[v]:
            if w == start:
                path = [v]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if w in component and w not in parent:
                parent[w] = v
                queue.append(w)
    raise AssertionError("not a cycle")


def describe(graph: dict[str, dict[str, int]], component: frozenset[str]) -> str:
    path = shortest_cycle(graph, component)
    where = modules(ROOT, "ccer")
    steps = "\n".join(f"    {a} -> {b}   ({where[a].relative_to(ROOT)}:{graph[a][b]})" for a, b in zip(path, path[1:]))
    return f"import cycle among {sorted(component)}:\n{steps}"


# ---- the rules -----------------------------------------------------------------------------------------------


def test_the_ccer_package_has_no_import_cycle():
    graph = import_graph()
    found = cycles(graph)
    new = [c for c in found if c not in TOLERATED]
    assert not new, "\n\n".join(describe(graph, c) for c in new)


def test_tolerated_cycles_are_still_there():
    """A tolerated cycle that has been removed comes off the list, so that it cannot come back unnoticed."""
    found = cycles(import_graph())
    assert [c for c in TOLERATED if c not in found] == []


def test_the_public_ledger_format_stands_alone():
    """A third party re-implements verification from docs/ledger-format.md: the canonical JSON and event hash
    (ccer/ledger/codec.py) and the Merkle tree (ccer/infra/merkle.py) import nothing else of the platform."""
    graph = import_graph()
    assert graph["ccer.ledger.codec"] == {}
    assert graph["ccer.infra.merkle"] == {}


def test_the_graph_sees_module_and_function_level_and_relative_imports():
    """The reader itself: were it to miss imports, the no-cycle test would pass on anything."""
    graph = import_graph()
    assert "ccer.infra.clock" in graph["ccer.ledger.append"]           # from .. import clock, db
    assert "ccer.ledger.codec" in graph["ccer.ledger.append"]    # from .codec import canonical, event_hash
    assert "ccer.infra.merkle" in graph["ccer.cli.ledger_cmd"]         # inside check_export(): from .. import merkle
    assert "ccer.api" in graph["ccer"]                           # inside create_app(): from .api import init_api
    assert "ccer.infra.db" in graph["ccer.migrations.env"] or "ccer" in graph["ccer.migrations.env"]  # absolute


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_a_cycle_through_a_function_level_relative_import_is_found_and_printed(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "low.py": "def f():\n    from .sub import high\n",          # dodging the cycle inside a function
        "sub/__init__.py": "",
        "sub/high.py": "from .. import low\nfrom typing import TYPE_CHECKING\n",
        "other.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import low\nimport pkg.low\n",
    })
    graph = import_graph(root, "pkg")
    assert graph["pkg.low"] == {"pkg.sub.high": 2} and graph["pkg.sub.high"] == {"pkg.low": 1}
    assert graph["pkg.other"] == {"pkg.low": 4}  # the TYPE_CHECKING import is not an edge
    found = cycles(graph)
    assert found == [frozenset({"pkg.low", "pkg.sub.high"})]
    assert shortest_cycle(graph, found[0]) == ["pkg.low", "pkg.sub.high", "pkg.low"]


@pytest.mark.parametrize("source, target", [
    ("from .. import name_in_init", "pkg"),     # a name defined in the package's __init__: an edge to the package
    ("from .. import mod", "pkg.mod"),          # a submodule
    ("from ..mod import thing", "pkg.mod"),
    ("from . import c", "pkg.a.c"),
    ("import pkg.a.c as c", "pkg.a.c"),
    ("from pkg.mod import thing", "pkg.mod"),
])
def test_imports_resolve_to_modules_or_their_package(tmp_path, source, target):
    root = _package(tmp_path, {"__init__.py": "name_in_init = 1\n", "mod.py": "thing = 1\n", "a/__init__.py": "",
                               "a/c.py": "", "a/b.py": source + "\n"})
    assert list(import_graph(root, "pkg")["pkg.a.b"]) == [target]


#: calls that install behaviour into another package: allowed only inside a function (a module's `wire()`,
#: which its package's `__init__.py` calls once from ccer.load_models)
_INSTALLERS = {("policy", "allow"), ("ledger", "register_subject"), ("ledger", "register_fields"),
               ("ledger", "register_invariant"), ("makerchecker", "operation")}


def _installs(node: ast.AST) -> bool:
    if isinstance(node, ast.For):
        return any(_installs(n) for n in node.body)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        f = node.value.func
        return isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and (f.value.id, f.attr) in _INSTALLERS
    if isinstance(node, (ast.Assign, ast.AugAssign)):  # comments.SUBJECTS[...] = …, db.AFTER_COMMIT += …
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Attribute) for t in targets)
    return False


def test_no_module_installs_behaviour_in_another_package_when_imported():
    offenders = []
    for name, path in modules(ROOT, "ccer").items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in tree.body if _installs(n)]
        offenders += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
                      and isinstance(n.value.func, ast.Attribute) and n.value.func.attr == "append"
                      and isinstance(n.value.func.value, ast.Attribute) and n.value.func.value.attr == "AFTER_COMMIT"]
    assert not offenders, "registrations at import time (move them into the module's wire()): " + ", ".join(offenders)
