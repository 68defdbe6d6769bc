"""init, load (from the current folder upwards), user edits that round-trip, save as template."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrator.config import (
    init_workspace,
    load_workspace,
    save_project_as_template,
    validate_workspace,
)
from integrator.errors import ConfigError
from integrator.templates import list_templates, load_template
from integrator.templates.yamldoc import dump_text, load_text
from tests.config.helpers import ACCOUNTS, CONTACTS, CUSTOMERS, SANDBOX, edit
from tests.config.p2c_metadata import describe


def test_init_writes_settings_connections_and_one_project_per_template(workspace: Path) -> None:
    assert sorted(p.name for p in (workspace / "projects").iterdir()) == [
        f"{ACCOUNTS}.yaml",
        f"{CONTACTS}.yaml",
        f"{CUSTOMERS}.yaml",
    ]
    ws = load_workspace(workspace)
    assert ws.problems == []
    assert ws.settings.history.retention_days == 45
    assert ws.history_database_url == f"sqlite:///{workspace / 'history.db'}"
    ((name, connection_set),) = ws.connection_sets.items()
    assert name == "default"
    assert connection_set.sales is not None and connection_set.cds is not None
    assert connection_set.finops is not None
    assert connection_set.sales.url == f"{SANDBOX}/sales/api/data/v9.2/"
    assert connection_set.cds.url == f"{SANDBOX}/cds/api/data/v9.2/"
    assert connection_set.finops.url == f"{SANDBOX}/finops/data/"
    assert (connection_set.sales.kind, connection_set.finops.kind) == ("dataverse", "finops")
    mapping = connection_set.organization_mapping
    assert (mapping.cds_organization, mapping.finops_legal_entity) == ("ORG001", "USMF")
    assert connection_set.integration_key("accounts") == "accountnumber"
    assert connection_set.integration_key("contacts") == "msdynce_contactnumber"
    for project_name, project in ws.projects.items():
        template = load_template(project_name)
        assert project.template == template.name
        assert project.connection_set == "default"
        assert project.tasks == template.tasks
        assert project.required_prior == template.required_prior
    assert validate_workspace(ws, describe) == []


def test_sandbox_url_is_kept_as_given(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "w", "http://localhost:9999/base/")
    text = (root / "connections.yaml").read_text()
    assert "http://localhost:9999/base/sales/api/data/v9.2/" in text
    assert "# Points at the sandbox at http://localhost:9999/base/" in text


def test_init_refuses_an_existing_workspace(workspace: Path) -> None:
    with pytest.raises(ConfigError, match="already a workspace"):
        init_workspace(workspace, SANDBOX)


def test_workspace_is_found_from_a_subfolder(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(workspace / "projects")
    assert load_workspace().root == workspace
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"no workspace here: no integrator\.yaml in"):
        load_workspace()


def test_project_is_named_exactly_or_by_a_unique_prefix(workspace: Path) -> None:
    ws = load_workspace(workspace)
    assert ws.project_name(CONTACTS) == CONTACTS
    assert ws.project_name("accounts") == ACCOUNTS
    assert ws.project_name("Contacts to Customer") == CUSTOMERS
    assert ws.project_name("to customer") == CUSTOMERS  # a unique part of the name
    with pytest.raises(ConfigError) as raised:
        ws.project_name("Contacts")
    assert str(raised.value) == (
        f'"Contacts" matches 2 projects; name one of them:\n  "{CONTACTS}"\n  "{CUSTOMERS}"'
    )


def test_an_exact_name_wins_over_a_longer_one_it_begins(workspace: Path) -> None:
    projects = workspace / "projects"
    (projects / "Contacts.yaml").write_text(
        (projects / f"{CONTACTS}.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    ws = load_workspace(workspace)
    assert ws.project_name("contacts") == "Contacts"
    assert ws.project_name("Contacts to Contact") == CONTACTS  # not ambiguous with "Contacts"
    with pytest.raises(ConfigError, match='no project named "Leads"'):
        ws.project("Leads")


def test_user_edits_load_and_round_trip_with_comments(workspace: Path) -> None:
    path = workspace / "projects" / f"{CONTACTS}.yaml"
    edit(path, "{type: Default, value: USA}", "{type: Default, value: DEU}")  # change a default
    edit(  # remove a row
        path,
        "      - {destination: DecisionMakingRoleCode, source: PrimaryAccountRole}\n",
        "",
    )
    edit(  # add a row, with the user's own comment
        path,
        "      - {destination: PhoneCell, source: mobilephone}\n",
        "      - {destination: PhoneCell, source: mobilephone}\n"
        "      # my note: job titles are upper-case in CDS\n"
        "      - destination: JobTitle\n"
        "        source: jobtitle\n"
        "        transforms: [Upper]\n",
    )
    text = edit(  # edit the filter
        path,
        "source_filter: msdynce_isactivecustomer eq false and msdynce_iscompanyanaccount eq true",
        "source_filter: msdynce_isactivecustomer eq false and statecode eq 0",
    )
    edit(path, "      - {destination: JobTitle, source: jobtitle}\n", "")

    ws = load_workspace(workspace)
    task = ws.project(CONTACTS).tasks[0]
    leg2 = {r.destination: r for r in task.cds_to_destination or ()}
    assert "DecisionMakingRoleCode" not in leg2
    assert leg2["PrimaryAddressCountryRegionISOCode"].transforms[0].params == {"value": "DEU"}
    job = {r.destination: r for r in task.source_to_cds or ()}["JobTitle"]
    assert (job.source, job.map_type, job.transforms[0].type) == ("jobtitle", "Fn", "Upper")
    assert task.source_filter == "msdynce_isactivecustomer eq false and statecode eq 0"

    text = path.read_text()
    document, problems = load_text(text, "p.yaml")
    assert problems == []
    assert dump_text(document) == text
    assert "# my note: job titles are upper-case in CDS" in text
    assert "# PrimaryAccountRole = DecisionMakingRole" in text


def test_save_as_template_keeps_tasks_and_comments(workspace: Path) -> None:
    path = workspace / "projects" / f"{ACCOUNTS}.yaml"
    edit(path, "value: '13'}]", "value: '24'}]  # our warehouse")
    ws = load_workspace(workspace)
    saved = save_project_as_template(ws, "accounts", "Accounts EU")
    assert saved == workspace / "templates" / "Accounts EU.yaml"
    text = saved.read_text()
    assert "# our warehouse" in text and "connection_set" not in text
    assert "template:" not in text

    entry = {e.name: e for e in list_templates(workspace)}["Accounts EU"]
    assert not entry.read_only and entry.problems == ()
    template = load_template("Accounts EU", workspace)
    assert template.tasks[0].name == "Accounts"
    rows = {r.destination: r for r in template.tasks[0].cds_to_destination or ()}
    assert rows["WarehouseId"].transforms[0].params == {"value": "24"}

    ws = load_workspace(workspace)
    assert "Accounts EU" in [e.name for e in ws.templates]
    with pytest.raises(ConfigError, match='a template named "Accounts EU" already exists'):
        save_project_as_template(ws, ACCOUNTS, "accounts eu")
    with pytest.raises(ConfigError, match="already exists"):
        save_project_as_template(ws, ACCOUNTS, ACCOUNTS)
    with pytest.raises(ConfigError, match="cannot be a template name"):
        save_project_as_template(ws, ACCOUNTS, "../escape")


def test_history_database_settings(workspace: Path) -> None:
    settings = workspace / "integrator.yaml"
    edit(settings, "database_url: null", "database_url: postgresql+psycopg://me@db/integrator")
    assert load_workspace(workspace).history_database_url == (
        "postgresql+psycopg://me@db/integrator"
    )
    edit(settings, "retention_days: 45", "retention_days: 7")
    assert load_workspace(workspace).settings.history.retention_days == 7
    edit(settings, "postgresql+psycopg://me@db", "postgresql+psycopg://me:pw@db")
    with pytest.raises(ConfigError) as caught:
        load_workspace(workspace)
    message = str(caught.value)
    assert "database_url holds a password" in message
    assert "pw" not in message.replace("password", "")
