"""The projects page, a project's page, New project, Delete and Save as template, as a signed-in
person sees them, on the golden workspace (its sandbox running)."""

from __future__ import annotations

import re
from pathlib import Path

from integrator.config.workspace import load_workspace
from integrator.engine.run import Engine
from tests.portal.client import PortalClient

CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
ACCOUNTS = "Accounts (Sales to Fin and Ops)"


def _row(html: str, name: str) -> str:
    """The projects table's row of ``name``."""
    rows = re.findall(r"<tr>.*?</tr>", html, flags=re.S)
    found = [row for row in rows if f">{name}</a>" in row]
    assert found, f"no row for {name}"
    return found[0]


def test_the_projects_page_lists_the_three_projects_never_run_nor_scheduled(
    portal: PortalClient,
) -> None:
    response = portal.get("/projects")
    assert response.status_code == 200
    workspace = load_workspace(portal.context.root)
    assert len(workspace.project_files) == 3
    for name in workspace.project_files:
        row = _row(response.text, name)
        assert "Never" in row and "Not scheduled" in row
        assert "default" in row and "Sales, CDS, F&amp;O" in row
        assert "Run project</button>" in row and "Run project with all data</button>" in row
        assert 'name="all_data" value="true"' in row
        for link in ("Schedule", "Execution history", "Save as template", "Delete"):
            assert f">{link}</a>" in row
    assert ">New project</a>" in response.text


def test_after_a_run_the_latest_sync_shows_its_status(portal: PortalClient) -> None:
    engine = Engine(load_workspace(portal.context.root))
    try:
        [summary] = engine.run([ACCOUNTS])
    finally:
        engine.close()
    row = _row(portal.get("/projects").text, ACCOUNTS)
    assert f'href="/runs/{summary.id}"' in row
    assert f">{summary.status}</span>" in row
    assert "just now" in row or "min ago" in row
    assert "Never" in _row(portal.get("/projects").text, CONTACTS)
    api = portal.get("/api/projects").json()["projects"]
    latest = {p["name"]: p["latest_run"] for p in api}
    assert latest[ACCOUNTS]["id"] == summary.id
    assert latest[ACCOUNTS]["status"] == str(summary.status)
    assert latest[CONTACTS] is None


def test_a_project_page_shows_its_tasks_and_links_to_their_mapping(portal: PortalClient) -> None:
    response = portal.get(f"/projects/{CONTACTS}")
    assert response.status_code == 200, response.text
    text = response.text
    assert "<code>Sales.contacts</code>" in text
    assert "/tasks/0/mapping" in text
    assert "F&amp;O." in text
    for tab in ("Tasks", "Connections", "Scheduling", "Execution history"):
        assert f">{tab}</a>" in text
    assert "This project has mapping errors." not in text
    assert portal.get("/projects/No%20such%20project").status_code == 404


def test_a_project_with_a_mapping_error_shows_it_with_file_and_line(
    portal: PortalClient,
) -> None:
    path = portal.context.root / "projects" / f"{CONTACTS}.yaml"
    text = path.read_text()
    assert "source: firstname" in text
    path.write_text(text.replace("source: firstname", "source: no_such_field", 1))
    response = portal.get(f"/projects/{CONTACTS}")
    assert "This project has mapping errors." in response.text
    assert "no_such_field" in response.text
    assert f"projects/{CONTACTS}.yaml:" in response.text
    api = portal.get(f"/api/projects/{CONTACTS}").json()
    assert api["problems"] and api["problems"][0]["file"] == f"projects/{CONTACTS}.yaml"
    assert api["version"]


def test_the_new_project_wizard_creates_the_file(portal: PortalClient) -> None:
    first = portal.get("/projects/new")
    assert "Select a template" in first.text and "Microsoft (shipped)" in first.text
    taken = portal.get(
        "/projects/new", params={"step": "connections", "template": ACCOUNTS, "name": ACCOUNTS}
    )
    assert "already exists" in taken.text
    assert 'aria-current="step">1. Select a template' in taken.text
    step2 = portal.get(
        "/projects/new", params={"step": "connections", "template": ACCOUNTS, "name": "EU accounts"}
    )
    assert 'aria-current="step">2. Connections' in step2.text
    step3 = portal.get(
        "/projects/new",
        params={
            "step": "organizations",
            "template": ACCOUNTS,
            "name": "EU accounts",
            "connection_set": "default",
        },
    )
    assert "USMF" in step3.text and "ORG001" in step3.text
    created = portal.form(
        "/projects/new",
        {"name": "EU accounts", "template": ACCOUNTS, "connection_set": "default"},
        follow_redirects=False,
    )
    assert created.status_code == 303  # type: ignore[attr-defined]
    assert created.headers["location"] == "/projects/EU%20accounts?created=1"  # type: ignore[attr-defined]
    path = portal.context.root / "projects" / "EU accounts.yaml"
    assert path.is_file()
    assert f"template: {ACCOUNTS}" in path.read_text() or ACCOUNTS in path.read_text()
    assert ">EU accounts</a>" in portal.get("/projects").text
    again = portal.form(
        "/projects/new", {"name": "eu ACCOUNTS", "template": ACCOUNTS, "connection_set": "default"}
    )
    assert again.status_code == 422  # type: ignore[attr-defined]
    assert "already exists" in again.text  # type: ignore[attr-defined]


def test_delete_asks_first_then_deletes_the_file_only(portal: PortalClient) -> None:
    root: Path = portal.context.root
    confirm = portal.get(f"/projects/{CONTACTS}/delete")
    assert "Delete project</button>" in confirm.text
    assert "history is kept" in confirm.text
    done = portal.form(f"/projects/{CONTACTS}/delete", {}, follow_redirects=False)
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert not (root / "projects" / f"{CONTACTS}.yaml").exists()
    listing = portal.get(done.headers["location"]).text  # type: ignore[attr-defined]
    assert f">{CONTACTS}</a>" not in listing
    assert f"Project &#34;{CONTACTS}&#34; was deleted. Its execution history is kept." in listing


def test_delete_refuses_a_project_another_requires_first(portal: PortalClient) -> None:
    root: Path = portal.context.root
    confirm = portal.get(f"/projects/{ACCOUNTS}/delete")
    assert "cannot be deleted" in confirm.text
    assert "Delete project</button>" not in confirm.text
    refused = portal.form(f"/projects/{ACCOUNTS}/delete", {})
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert "requires" in refused.text  # type: ignore[attr-defined]
    assert (root / "projects" / f"{ACCOUNTS}.yaml").exists()
    api = portal.delete(f"/api/projects/{ACCOUNTS}", headers={"X-CSRF-Token": portal.csrf})
    assert api.status_code == 422
    assert "requires" in api.json()["error"]["message"] or api.json()["error"]["problems"]


def test_save_as_template_then_the_templates_page_lists_it(portal: PortalClient) -> None:
    saved = portal.form(
        f"/projects/{CONTACTS}/save-as-template",
        {"template_name": "My contacts"},
        follow_redirects=True,
    )
    assert "Saved as template &#34;My contacts&#34;." in saved.text  # type: ignore[attr-defined]
    assert (portal.context.root / "templates" / "My contacts.yaml").is_file()
    listing = portal.get("/templates").text
    assert "My contacts" in listing and "This workspace" in listing
    again = portal.form(f"/projects/{CONTACTS}/save-as-template", {"template_name": "My contacts"})
    assert again.status_code == 422  # type: ignore[attr-defined]
    assert "already exists" in again.text  # type: ignore[attr-defined]
    names = [t["name"] for t in portal.get("/api/templates").json()["templates"]]
    assert "My contacts" in names and ACCOUNTS in names
