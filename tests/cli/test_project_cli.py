"""``integrator project new`` (from a shipped or a saved template) and ``integrator project
show`` (the seed's mapping grid), through the real command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from integrator.cli.main import app

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    assert invoke("init", str(root), "--sandbox", "http://127.0.0.1:8700")[0] == 0
    return root


def show_json(workspace: Path, name: str) -> dict[str, Any]:
    code, out, err = invoke("project", "show", name, "--workspace", str(workspace), "--json")
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def grid_rows(text: str) -> list[list[str]]:
    """The cells of every table row in ``text``."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def test_new_project_from_a_shipped_template(workspace: Path) -> None:
    code, out, err = invoke(
        "project", "new", "Contacts EU", "--template", CONTACTS, "--workspace", str(workspace)
    )
    assert (code, err) == (0, "")
    assert (workspace / "projects" / "Contacts EU.yaml").is_file()
    assert "integrator project show 'Contacts EU' --workspace" in out
    shown = show_json(workspace, "Contacts EU")
    assert (shown["template"], shown["connection_set"]) == (CONTACTS, "default")
    assert shown["required_prior"] == [ACCOUNTS]
    assert [t["name"] for t in shown["tasks"]] == ["Contacts"]


def test_new_project_from_a_saved_template(workspace: Path) -> None:
    ws = str(workspace)
    assert invoke("template", "save", ACCOUNTS, "Accounts EU", "-w", ws)[0] == 0
    code, _, err = invoke("project", "new", "EU accounts", "--template", "Accounts EU", "-w", ws)
    assert (code, err) == (0, "")
    shown = show_json(workspace, "EU accounts")
    assert shown["template"] == "Accounts EU"
    assert shown["tasks"][0]["destination_entity"] == "CustomersV2"


def test_new_project_refuses_a_taken_name_an_unknown_template_and_connection_set(
    workspace: Path,
) -> None:
    ws = str(workspace)
    code, _, err = invoke("project", "new", ACCOUNTS.upper(), "--template", ACCOUNTS, "-w", ws)
    assert code == 2
    assert f'a project named "{ACCOUNTS}" already exists' in err
    code, _, err = invoke("project", "new", "X", "--template", "Acounts", "-w", ws)
    assert code == 2
    assert 'no template named "Acounts" (known: "Accounts (Sales to Fin and Ops)", ' in err
    code, _, err = invoke(
        "project", "new", "X", "--template", ACCOUNTS, "--connection-set", "eu", "-w", ws
    )
    assert (code, err.strip()) == (2, 'error: no connection set named "eu" (known: default)')
    assert not (workspace / "projects" / "X.yaml").exists()


def test_show_prints_each_legs_mapping_grid_the_filter_and_the_prerequisites(
    workspace: Path,
) -> None:
    code, out, _ = invoke("project", "show", "Contacts to Contact", "-w", str(workspace))
    assert code == 0
    assert "Sync tasks required prior: Accounts (Sales to Fin and Ops)" in out
    assert (
        "Source filter: msdynce_isactivecustomer eq false and msdynce_iscompanyanaccount eq true"
        in out
    )
    assert "Source → CDS: Sales contacts → CDS contacts" in out
    assert "CDS → Destination: CDS contacts → F&O CDSContactPersons" in out
    assert "dataAreaId ← organization mapping finops_legal_entity (connection set default)" in out
    rows = grid_rows(out)
    assert ["SOURCE FIELD", "MAP TYPE", "DESTINATION FIELD", "TEMPLATE VALUE", "TRANSFORMS"] in [
        [cell.strip() for cell in line.strip().strip("┃").split("┃")]
        for line in out.splitlines()
        if line.startswith("┃")
    ]
    assert ["msdynce_contactnumber", "=", "ContactId", "", ""] in rows
    assert [
        "accountrolecode",
        "Fn",
        "PrimaryAccountRole",
        "",
        "ValueMap 1 → DecisionMaker, 2 → Employee, 3 → Influencer",
    ] in rows
    assert ["", "Fn", "Organization_OrganizationId", "ORG001", "Default ORG001"] in rows
    assert [
        "PrimaryAddressCountryRegionISOCode",
        "Fn",
        "PrimaryAddressCountryRegionISOCode",
        "USA",
        "Default USA",
    ] in rows


def test_show_json_has_every_row_with_its_template_value_and_transforms(workspace: Path) -> None:
    shown = show_json(workspace, CONTACTS)
    task = shown["tasks"][0]
    assert task["source_filter"].startswith("msdynce_isactivecustomer eq false")
    legs = {leg["title"]: leg for leg in task["legs"]}
    assert legs["Source → CDS"]["to"] == {"system": "cds", "entity": "contacts"}
    rows = {row["destination"]: row for row in legs["Source → CDS"]["rows"]}
    assert rows["Organization_OrganizationId"] == {
        "source": None,
        "map_type": "Fn",
        "destination": "Organization_OrganizationId",
        "template_value": "ORG001",
        "transforms": [{"type": "Default", "value": "ORG001"}],
    }
    assert rows["PrimaryAccountRole"]["transforms"][0]["map"]["3"] == "Influencer"
    assert legs["CDS → Destination"]["bindings"] == {"dataAreaId": "finops_legal_entity"}


def test_show_names_the_known_projects_for_an_unknown_one(workspace: Path) -> None:
    code, _, err = invoke("project", "show", "Leads", "-w", str(workspace))
    assert code == 2
    assert 'no project named "Leads"' in err and ACCOUNTS in err
