"""The connectors are a layer below the configuration: ``integrator.connectors`` imports no
``integrator.config`` (nor the engine or the CLI), so the two cannot form an import cycle.
Imports anywhere in a module count (inside functions and under ``if TYPE_CHECKING:`` too).
"""

from __future__ import annotations

import ast
from pathlib import Path

import integrator

SOURCE = Path(integrator.__file__).parent
#: what the connectors may stand on, besides themselves
BELOW_CONNECTORS = ("integrator.errors", "integrator.odata", "integrator.secrets")


def _imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.startswith("integrator")}


def _is_under(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def test_connectors_import_only_themselves_and_the_layers_below() -> None:
    offenders = {
        str(path.relative_to(SOURCE)): sorted(
            name
            for name in _imported(path)
            if not _is_under(name, ("integrator.connectors", *BELOW_CONNECTORS))
        )
        for path in sorted((SOURCE / "connectors").rglob("*.py"))
    }
    assert {file: names for file, names in offenders.items() if names} == {}


def test_the_layers_below_import_no_connector_nor_configuration() -> None:
    files = [SOURCE / "errors.py", SOURCE / "secrets.py", *sorted((SOURCE / "odata").rglob("*.py"))]
    offenders = {
        str(path.relative_to(SOURCE)): sorted(
            name
            for name in _imported(path)
            if _is_under(name, ("integrator.connectors", "integrator.config"))
        )
        for path in files
    }
    assert {file: names for file, names in offenders.items() if names} == {}
