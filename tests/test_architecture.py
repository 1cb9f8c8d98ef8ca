"""The imports between files match the picture in docs/architecture.md.

Pure and fast: every module of the house is parsed (ast), never imported. Every
import counts, wherever it stands (module level, inside a function, under
TYPE_CHECKING), because each one is a dependency a reader has to follow.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
# The generated contract (proto/wagate) is a layer of the picture but is not ours to parse.
PACKAGES = ("core", "providers", "storage", "realtime", "gateway")
Graph = Mapping[str, set[str]]


def layer_rules(doc: str) -> dict[str, set[str]]:
    """`layer → what it may import` from the ```layers block of the document."""
    block = re.search(r"```layers\n(.*?)```", doc, re.S)
    assert block, f"{DOC.name} has no ```layers block"
    rules: dict[str, set[str]] = {}
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        name, _, allowed = line.partition("→")
        rules[name.strip()] = {a.strip() for a in allowed.split(",") if a.strip() not in ("", "-")}
    return rules


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterable[str]:
    """Every dotted name an import statement in `tree` may refer to."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            yield prefix
            yield from (f"{prefix}.{alias.name}" for alias in node.names)


def import_graph(root: Path, packages: Iterable[str]) -> dict[str, set[str]]:
    """module → the modules of ours it imports (a name imported from a module maps to it)."""
    files = {
        module_name(path, root): path for pkg in packages for path in (root / pkg).rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        targets: set[str] = set()
        for name in imported_names(tree, module, path.name == "__init__.py"):
            while name and name not in files:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    # `from pkg import sub` names both pkg and pkg.sub: only the submodule is meant.
    for targets in graph.values():
        targets -= {t for t in set(targets) if any(o.startswith(t + ".") for o in targets)}
    return graph


def upward_imports(graph: Graph, rules: Mapping[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        layer = module.split(".")[0]
        for target in sorted(targets):
            other = target.split(".")[0]
            if other != layer and other not in rules.get(layer, set()):
                found.append(f"{module} imports {target} ({layer} may not import {other})")
    return found


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# -- the house -----------------------------------------------------------------------


def test_the_document_names_every_package_in_its_layers() -> None:
    rules = layer_rules(DOC.read_text())
    assert set(rules) == {*PACKAGES, "wagate"}
    for allowed in rules.values():
        assert allowed <= set(rules)


def test_no_import_runs_upward() -> None:
    rules = layer_rules(DOC.read_text())
    assert upward_imports(import_graph(ROOT, PACKAGES), rules) == []


def test_no_circle_between_files() -> None:
    assert cycles(import_graph(ROOT, PACKAGES)) == []


def test_the_errors_import_nothing_of_ours() -> None:
    tree = ast.parse((ROOT / "core" / "errors.py").read_text())
    ours = {*PACKAGES, "wagate"}
    names = {n.split(".")[0] for n in imported_names(tree, "core.errors", False)}
    assert names & ours == set()


# -- the checks themselves can fail ----------------------------------------------------


def test_a_planted_upward_import_and_circle_are_found(tmp_path: Path) -> None:
    files = {
        "low/__init__.py": "",
        "low/a.py": "from high import b\n",
        "high/__init__.py": "",
        "high/b.py": "from . import c\n",
        "high/c.py": "def f():\n    from high.b import g\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path, ("low", "high"))
    assert graph["low.a"] == {"high.b"}
    rules = layer_rules("```layers\nhigh → low\nlow → -\n```")
    assert upward_imports(graph, rules) == ["low.a imports high.b (low may not import high)"]
    assert cycles(graph) == [["high.b", "high.c"]]
