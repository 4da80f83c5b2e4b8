"""No import cycles between the project's modules (design guide §3).

A cycle makes modules that cannot be read, tested or changed apart: the app importing its cogs while
the cogs import the app, or the emulator's driver and the parts it builds typing each other. This
reads every module of the runtime packages statically and looks for strongly connected components
of the import graph (Tarjan). Imports inside functions and under ``TYPE_CHECKING`` count too: a
cycle that only a type hint closes still ties the two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "cogs", "storage", "emulator", "migrations")

Graph = dict[str, set[str]]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """Every project module this one imports, wherever the import stands.

    ``from package import submodule`` depends on the submodule; ``from module import name`` on the
    module. Relative imports are resolved against the importing module's package.
    """
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else base)
    return found


def import_graph(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> Graph:
    """Module name -> the project modules it imports (outside imports are left out)."""
    paths = [path for package in packages for path in (root / package).rglob("*.py")]
    modules = {_module_name(path): path for path in paths}
    graph: Graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = _imports(tree, name, path.name == "__init__.py", set(modules))
        graph[name] = {target for target in imported if target in modules and target != name}
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def _describe(component: list[str], graph: Graph) -> str:
    """One cycle, with the imports that close it, so the failure says what to cut."""
    members = set(component)
    edges = [
        f"    {module} -> {target}" for module in component for target in sorted(graph[module] & members)
    ]
    return f"{len(component)} modules import each other:\n" + "\n".join(edges)


def test_the_runtime_packages_have_no_import_cycle() -> None:
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(_describe(c, graph) for c in found)


def test_the_graph_reads_every_kind_of_import() -> None:
    """Guards the check itself: an empty or blind graph would find no cycle and pass."""
    graph = import_graph()
    assert len(graph) > 50
    assert "storage.engine" in graph["bot.app"]  # a module-level import
    assert "bot.app" in graph["cogs.help_threads"]  # an import under TYPE_CHECKING
    assert "emulator.server" in graph["emulator.driver"]  # an import inside a function


def test_a_cycle_is_found_and_named() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert "a -> b" in _describe(["a", "b", "c"], graph)
