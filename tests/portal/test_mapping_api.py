"""The mapping API: a project's task list as JSON, read and written (validated first)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.commands import integrator
from tests.portal.client import PortalClient

CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
FILE = f"projects/{CONTACTS}.yaml"
URL = "/api/projects/Contacts%20to%20Contact%20%28Sales%20to%20Fin%20and%20Ops%29/mapping"


def _put(portal: PortalClient, body: dict[str, Any]) -> Any:
    """PUT as the portal's own pages do (the session's CSRF token in the header)."""
    return portal.put(URL, json=body, headers={"X-CSRF-Token": portal.csrf})


def _without(tasks: list[dict[str, Any]], destination: str) -> list[dict[str, Any]]:
    leg = tasks[0]["cds_to_destination"]
    tasks[0]["cds_to_destination"] = [r for r in leg if r["destination"] != destination]
    return tasks


def test_get_gives_the_file_task_list_and_its_version(portal: PortalClient) -> None:
    got = portal.get(URL)
    assert got.status_code == 200
    body = got.json()
    assert body["file"] == FILE
    assert len(body["version"]) == 16
    (task,) = body["tasks"]
    assert task["name"] == "Contacts"
    assert {"destination": "DecisionMakingRoleCode", "source": "PrimaryAccountRole"} in task[
        "cds_to_destination"
    ]


def test_put_writes_only_the_change_and_project_show_sees_it(
    portal: PortalClient, workspace: Path
) -> None:
    body = portal.get(URL).json()
    before = (workspace / FILE).read_text()
    tasks = _without(body["tasks"], "DecisionMakingRoleCode")
    saved = _put(portal, {"tasks": tasks, "version": body["version"]})
    assert saved.status_code == 200, saved.text
    assert saved.json()["file"] == FILE
    assert saved.json()["version"] != body["version"]
    after = (workspace / FILE).read_text()
    removed = [line for line in before.splitlines() if line not in after.splitlines()]
    assert removed == ["      - {destination: DecisionMakingRoleCode, source: PrimaryAccountRole}"]
    assert len(after.splitlines()) == len(before.splitlines()) - 1
    shown = integrator("project", "show", CONTACTS, "--workspace", str(workspace))
    assert shown.returncode == 0, shown.stderr
    assert "DecisionMakingRoleCode" not in shown.stdout
    assert "PrimaryAddressCountryRegionISOCode" in shown.stdout


def test_an_unknown_destination_field_is_422_with_the_problem_and_nothing_written(
    portal: PortalClient, workspace: Path
) -> None:
    body = portal.get(URL).json()
    before = (workspace / FILE).read_bytes()
    body["tasks"][0]["cds_to_destination"].append(
        {"destination": "NoSuchField", "source": "ContactId"}
    )
    refused = _put(portal, {"tasks": body["tasks"], "version": body["version"]})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid"
    (problem,) = error["problems"]
    assert problem["file"] == FILE
    assert isinstance(problem["line"], int)
    assert "leg CDS → Destination" in problem["path"]
    assert "NoSuchField" in problem["message"]
    assert (workspace / FILE).read_bytes() == before


def test_a_model_problem_is_422_too_with_a_bearer_token(
    portal: PortalClient, workspace: Path
) -> None:
    body = portal.get(URL).json()
    before = (workspace / FILE).read_bytes()
    body["tasks"][0]["keys"] = {"source": []}
    token = portal.context.credentials.new_token()
    portal.cookies.clear()
    refused = portal.put(
        URL, json={"tasks": body["tasks"]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["problems"]
    assert (workspace / FILE).read_bytes() == before


def test_a_stale_version_is_409_with_a_diff_and_the_first_save_stays(
    portal: PortalClient, workspace: Path
) -> None:
    first = portal.get(URL).json()
    second = portal.get(URL).json()
    first["tasks"][0]["source_filter"] = "msdynce_isactivecustomer eq false"
    assert _put(portal, first).status_code == 200
    saved = (workspace / FILE).read_bytes()
    _without(second["tasks"], "PrimaryFaxNumber")
    refused = _put(portal, second)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "conflict"
    assert "+    source_filter: msdynce_isactivecustomer eq false" in error["diff"]
    assert (workspace / FILE).read_bytes() == saved


def test_a_file_edited_on_disk_shows_on_the_next_get(portal: PortalClient, workspace: Path) -> None:
    portal.get(URL)
    path = workspace / FILE
    path.write_text(path.read_text().replace("value: USA}", "value: CAN}"))
    tasks = portal.get(URL).json()["tasks"]
    row = next(
        r
        for r in tasks[0]["cds_to_destination"]
        if r["destination"] == "PrimaryAddressCountryRegionISOCode"
    )
    assert row["transforms"] == [{"type": "Default", "value": "CAN"}]


def test_an_unknown_project_is_404(portal: PortalClient) -> None:
    got = portal.get("/api/projects/Nothing%20like%20it/mapping")
    assert got.status_code == 404
    assert got.json()["error"]["code"] == "not-found"


def test_metadata_gives_the_fields_of_an_entity(portal: PortalClient) -> None:
    got = portal.get("/api/metadata/finops/CDSContactPersons")
    assert got.status_code == 200
    fields = {f["name"]: f for f in got.json()["fields"]}
    assert set(fields["DecisionMakingRoleCode"]) == {
        "name",
        "type",
        "required",
        "read_only",
        "max_length",
    }
    assert portal.get("/api/metadata/finops/NoSuchEntity").status_code == 404


def test_transforms_gives_the_catalog(portal: PortalClient) -> None:
    got = portal.get("/api/transforms")
    names = [t["name"] for t in got.json()]
    assert "Default" in names and "ValueMap" in names
    default = next(t for t in got.json() if t["name"] == "Default")
    assert [a["name"] for a in default["arguments"]] == ["value"]
