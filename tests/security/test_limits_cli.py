"""Limits a user meets through the CLI: a source filter nested deeper than the parser's limit
is a configuration problem (``run`` exits 2 before reading anything) naming the file, the line,
the field and the limit, never a RecursionError."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrator.sandbox.testing import SandboxHandle
from tests.cli.test_engine_cli import CONTACTS, integrator

SHIPPED = "source_filter: msdynce_isactivecustomer eq false and msdynce_iscompanyanaccount eq true"


@pytest.fixture
def workspace(tmp_path: Path, sandbox: SandboxHandle) -> Path:
    root = tmp_path / "ws"
    done = integrator("init", str(root), "--sandbox", sandbox.url)
    assert done.returncode == 0, done.stderr
    return root


def test_a_source_filter_of_400_parentheses_is_exit_2_with_file_line_field_and_limit(
    workspace: Path,
) -> None:
    project = workspace / "projects" / f"{CONTACTS}.yaml"
    text = project.read_text(encoding="utf-8")
    deep = "(" * 400 + "lastname eq 'x'" + ")" * 400
    project.write_text(text.replace(SHIPPED, f"source_filter: {deep}"), encoding="utf-8")
    line = next(
        i for i, t in enumerate(project.read_text().splitlines(), 1) if "source_filter:" in t
    )
    result = integrator("run", "--workspace", str(workspace))
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, output[-2000:]
    assert f"{CONTACTS}.yaml:{line}" in output
    assert "source_filter" in output
    assert "more than 32 levels deep" in output
    assert "Traceback" not in output and "RecursionError" not in output
