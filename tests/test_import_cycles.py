"""Imports between eventreg's modules point one way: no module comes back to itself through the modules it
imports, and the feature packages named below never depend on each other both ways.

The modules are parsed, not imported, so an import inside a function counts as much as one at the top: a deferred
import only hides a cycle from Python, not from people. Imports under `if TYPE_CHECKING:` do not count, since they
never run. Dynamic imports (importlib) are not seen; the app factory's blueprint list is the only one.
"""

import ast
from collections import deque
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "eventreg"

# Packages (or top-level modules) of eventreg that may depend on each other one way, never both ways.
ONE_WAY = [
    ("registration", "attendees"),
    ("auth", "security"),
    ("audit", "auth"),
    ("attendees", "organizer"),
    ("checkin", "organizer"),
    ("attendees", "messages"),  # a message's audience is the attendee list's filter; the list never asks messages
]


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Every module of `package` (a folder under `root`), by dotted name; a package by its own name."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    """`if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:`."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every import statement of a module at any depth (in functions too), except those that only type checkers
    run (an `else:` of such an `if` does run, and counts)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
        else:
            pending.extend(ast.iter_child_nodes(node))


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of the package that the module `name` (at `path`) imports.

    `from pkg import name` imports the submodule pkg.name when there is one, else pkg itself. Relative imports are
    resolved from the module's package.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
            continue
        if node.level:
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - (node.level - 1)] + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        for alias in node.names:
            if f"{base}.{alias.name}" in modules:
                found.add(f"{base}.{alias.name}")
            elif base in modules:
                found.add(base)
    found.discard(name)
    return found


def import_graph(root: Path = ROOT, package: str = PACKAGE) -> dict[str, set[str]]:
    """Which of the package's modules each of its modules imports."""
    modules = module_files(root, package)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """The groups of modules that each reach one another (Tarjan's algorithm); a group of one is no cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while node not in group:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
            groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _shortest_way_back(graph: dict[str, set[str]], start: str, within: set[str]) -> list[str]:
    """The shortest path from `start` back to itself through modules of `within` (breadth first)."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph.get(node, set()) & within):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = node
                queue.append(target)
    raise AssertionError(f"{start} has no way back to itself")


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Cycles such as [a, b, a] that together pass through every module caught in one: for each knot of modules
    that reach one another, the shortest way back from its first module, then from the first module no cycle named
    yet, until each is named once."""
    cycles = []
    for knot in sorted((group for group in _strongly_connected(graph) if len(group) > 1), key=min):
        unnamed = set(knot)
        while unnamed:
            cycle = _shortest_way_back(graph, min(unnamed), knot)
            cycles.append(cycle)
            unnamed -= set(cycle)
    return cycles


def _in(module: str, part: str) -> bool:
    """Whether `module` is the package's top-level module or package `part`, or inside it."""
    name = f"{PACKAGE}.{part}"
    return module == name or module.startswith(name + ".")


def dependencies(graph: dict[str, set[str]], source: str, target: str) -> list[str]:
    """The imports by which the package (or top-level module) `source` depends on `target`, as "a -> b"."""
    return [
        f"{module} -> {imported}"
        for module in sorted(graph)
        if _in(module, source)
        for imported in sorted(graph[module])
        if _in(imported, target)
    ]


def test_no_module_imports_itself_through_others():
    cycles = import_cycles(import_graph())
    assert not cycles, "Import cycles (deferred imports included):\n" + "\n".join(
        "  " + " -> ".join(cycle) for cycle in cycles
    )


@pytest.mark.parametrize(("first", "second"), ONE_WAY)
def test_these_features_depend_on_each_other_one_way_only(first, second):
    graph = import_graph()
    assert graph, "no modules found"
    there, back = dependencies(graph, first, second), dependencies(graph, second, first)
    assert not (there and back), f"{first} and {second} import each other:\n  " + "\n  ".join(there + back)


# ---- the finder itself, on graphs and packages made up for it


@pytest.mark.parametrize(
    ("graph", "cycles"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, []),  # two ways to one module is no cycle
        ({"a": {"b"}, "b": {"a"}}, [["a", "b", "a"]]),
        ({"d": {"a"}, "a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c", "a"]]),
        ({"a": {"b", "c"}, "b": {"a"}, "c": {"d"}, "d": {"a"}}, [["a", "b", "a"], ["c", "d", "a", "c"]]),
        ({"a": {"b"}, "b": {"a"}, "x": {"y"}, "y": {"z"}, "z": {"x"}}, [["a", "b", "a"], ["x", "y", "z", "x"]]),
    ],
)
def test_the_finder_names_each_cycle(graph, cycles):
    assert import_cycles(graph) == cycles


@pytest.mark.parametrize(
    ("source", "imported"),
    [
        ("from . import b", {"pkg.b"}),
        ("from .b import something", {"pkg.b"}),
        ("from .sub import c", {"pkg.sub.c"}),  # a submodule
        ("from .sub import helper", {"pkg.sub"}),  # a name the package defines
        ("from pkg.sub.c import helper", {"pkg.sub.c"}),
        ("import pkg.sub.c", {"pkg.sub.c"}),
        ("import json\nfrom flask import Flask", set()),  # outside the package
        ("def later():\n    from .b import something", {"pkg.b"}),  # deferred: counts
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B", set()),
        ("import typing\nif typing.TYPE_CHECKING:\n    from .b import B\nelse:\n    from .sub import c", {"pkg.sub.c"}),
    ],
)
def test_the_parser_finds_what_a_module_imports(tmp_path, source, imported):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    for name in ("pkg/__init__.py", "pkg/b.py", "pkg/sub/__init__.py", "pkg/sub/c.py"):
        (tmp_path / name).write_text("")
    (tmp_path / "pkg" / "a.py").write_text(source)
    assert import_graph(tmp_path, "pkg")["pkg.a"] == imported


def test_a_cycle_in_a_package_is_found_through_relative_and_deferred_imports(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from .sub import c\n")
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "c.py").write_text("def later():\n    from ..a import thing\n")
    assert import_cycles(import_graph(tmp_path, "pkg")) == [["pkg.a", "pkg.sub.c", "pkg.a"]]
