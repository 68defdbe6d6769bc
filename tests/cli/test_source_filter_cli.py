"""A project's ``source_filter`` is checked before anything runs: a filter that does not fit the
source's property types is a configuration problem (file, line, field; exit 2), and the query
functions and OData forms Dataverse accepts run."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from integrator.odata.filter import evaluate, parse_filter
from integrator.sandbox.testing import SandboxHandle
from tests.cli.test_engine_cli import ACCOUNTS, CONTACTS, integrator

SHIPPED = "source_filter: msdynce_isactivecustomer eq false and msdynce_iscompanyanaccount eq true"


def _set_filter(workspace: Path, text: str) -> tuple[Path, int]:
    project = workspace / "projects" / f"{CONTACTS}.yaml"
    content = project.read_text(encoding="utf-8")
    assert SHIPPED in content
    project.write_text(content.replace(SHIPPED, f"source_filter: {text}"), encoding="utf-8")
    lines = project.read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(lines, 1) if "source_filter:" in t)
    return project, line


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lastname", "The $filter expression must evaluate to a single boolean value."),
        (
            "lastname eq 1",
            "Found operand types 'Edm.String' and 'Edm.Int32' for operator kind 'Equal'.",
        ),
        (
            "msdynce_isactivecustomer eq 1",
            "Found operand types 'Edm.Boolean' and 'Edm.Int32' for operator kind 'Equal'.",
        ),
        (
            "accountrolecode eq '1'",
            "Found operand types 'Edm.Int32' and 'Edm.String' for operator kind 'Equal'.",
        ),
    ],
)
def test_a_source_filter_of_the_wrong_type_stops_the_run_with_file_and_line(
    workspace: Path, sandbox: SandboxHandle, text: str, message: str
) -> None:
    _, line = _set_filter(workspace, text)
    result = integrator("run", "--workspace", str(workspace))
    assert result.returncode == 2, result.stdout + result.stderr
    output = " ".join((result.stdout + result.stderr).split())
    assert f"{CONTACTS}.yaml:{line}" in output
    assert "source_filter" in output
    assert message in output
    assert sandbox.request_counts()["requests"].get("finops", {}).get("PATCH", 0) == 0


def test_a_filter_nested_too_deep_is_a_configuration_problem(workspace: Path) -> None:
    _set_filter(workspace, "(" * 120 + "lastname eq 'x'" + ")" * 120)
    result = integrator("run", "--workspace", str(workspace))
    assert result.returncode == 2
    assert "more than 32 levels deep" in result.stdout + result.stderr


def test_query_functions_and_boolean_forms_run(workspace: Path, sandbox: SandboxHandle) -> None:
    _set_filter(
        workspace,
        "msdynce_isactivecustomer eq false and (msdynce_iscompanyanaccount eq true) eq true"
        " and not Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=['zz'])"
        " and Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=36500)",
    )
    assert integrator("run", ACCOUNTS, "--workspace", str(workspace)).returncode in (0, 1)
    result = integrator("run", CONTACTS, "--workspace", str(workspace), "--json")
    assert result.returncode in (0, 1), result.stdout + result.stderr
    (run,) = json.loads(result.stdout)["runs"]
    assert run["tasks"][0]["counts"]["read"] == shipped_selection(sandbox)


def shipped_selection(sandbox: SandboxHandle) -> int:
    """How many Sales contacts the shipped filter selects (the edited one selects the same)."""
    url = sandbox.sales + "contacts"
    expr = parse_filter(SHIPPED.removeprefix("source_filter: "))
    rows = httpx.get(url, params={"$select": "msdynce_isactivecustomer,msdynce_iscompanyanaccount"})
    selected = [r for r in rows.json()["value"] if evaluate(expr, r)]
    assert selected
    return len(selected)
