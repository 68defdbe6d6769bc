"""The HTTP connectors' import structure: no cycles, and the generic code knows no service.

Imports under ``if TYPE_CHECKING:`` count too: a cycle a type checker has to untangle is still
a cycle for the reader.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import integrator.connectors

ROOT = Path(integrator.connectors.__file__).parent
PACKAGE = "integrator.connectors"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(path: Path) -> set[str]:
    """Every ``integrator.connectors`` module ``path`` imports, wherever the import stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                for a in node.names
            ]
        found.update(n for n in names if n in MODULES)
    return found


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _cycle() -> list[str] | None:
    done: set[str] = set()
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(name: str) -> list[str] | None:
        stack.append(name)
        on_stack.add(name)
        for target in sorted(GRAPH[name]):
            if target in on_stack:
                return [*stack[stack.index(target) :], target]
            if target not in done:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        on_stack.discard(name)
        done.add(name)
        return None

    for name in sorted(GRAPH):
        if name not in done:
            found = visit(name)
            if found:
                return found
    return None


def test_the_graph_sees_the_imports() -> None:
    # guards the checks below against finding nothing because the walk finds nothing
    assert "integrator.connectors.http.client" in GRAPH["integrator.connectors.http.connector"]
    assert "integrator.connectors.http.service" in GRAPH["integrator.connectors.dataverse.changes"]


def test_connectors_have_no_import_cycle() -> None:
    assert _cycle() is None, " -> ".join(_cycle() or [])


def test_generic_http_code_imports_no_service() -> None:
    services = ("integrator.connectors.dataverse", "integrator.connectors.finops")
    offenders = {
        name: sorted(t for t in targets if t.startswith(services))
        for name, targets in GRAPH.items()
        if name.startswith("integrator.connectors.http")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_each_connector_module_imports_alone() -> None:
    script = (
        "import importlib, sys\n"
        f"for name in {sorted(MODULES)!r}:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('integrator')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
