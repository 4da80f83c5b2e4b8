"""The base install (`pip install -e .`, no extras) has everything the bot and the demo import.

The demo is a newcomer's first command; a module-level import of a package that only the dev or
bench extra installs crashes it on a fresh machine while every test (run with the extras) stays
green. This test reads the imports of the runtime packages and checks each against
`[project.dependencies]`.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PACKAGES = ("bot", "cogs", "storage", "migrations", "emulator")
LOCAL = set(RUNTIME_PACKAGES) | {"benchmarks", "tests"}
# Imported directly, but installed by the declared package that requires them at an exact version.
PART_OF = {"pydantic-core": "pydantic"}


def _declared(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", req, maxsplit=1)[0].lower().replace("_", "-") for req in requirements}


def _module_level_imports(tree: ast.Module) -> set[str]:
    """Top-level names imported when the module loads (not inside functions or TYPE_CHECKING)."""
    names: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(tree.body)
    return names


def _runtime_imports() -> dict[str, set[Path]]:
    found: dict[str, set[Path]] = {}
    for package in RUNTIME_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for name in _module_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
                found.setdefault(name, set()).add(path.relative_to(ROOT))
    return found


def test_every_runtime_import_is_a_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _declared(project["dependencies"])
    distributions = packages_distributions()
    undeclared = {}
    for name, paths in _runtime_imports().items():
        if name in LOCAL or name in sys.stdlib_module_names or name == "__future__":
            continue
        owners = {dist.lower().replace("_", "-") for dist in distributions.get(name, [name])}
        owners |= {PART_OF[owner] for owner in owners if owner in PART_OF}
        if not owners & declared:
            undeclared[name] = sorted(str(p) for p in paths)
    assert not undeclared, f"imported at run time but not in [project.dependencies]: {undeclared}"


def test_dev_only_packages_stay_out_of_the_base_install() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _declared(project["dependencies"])
    assert not declared & {"jsonschema", "pytest", "hypothesis", "bm25s", "psutil", "openapi-core"}
