"""The runs API: start a project, follow its run to the end, Re-run execution, Cancel, list."""

from __future__ import annotations

from integrator.engine.history.documents import runs_json
from tests.portal.client import PortalClient
from tests.portal.runs_helpers import (
    ACCOUNTS,
    CONTACTS,
    ROLE_MESSAGE,
    api_post,
    run_to_end,
    wait_for,
)


def test_a_run_started_through_the_api_ends_warning_with_the_seeds_failures(
    portal: PortalClient,
) -> None:
    started = api_post(portal, f"/api/projects/{ACCOUNTS}/runs", {"all_data": False})
    assert started.status_code == 202
    body = started.json()
    assert body["url"] == f"/api/runs/{body['run_id']}"
    accounts = wait_for(portal, body["run_id"])
    assert accounts["project"] == ACCOUNTS and accounts["trigger"] == "api"

    contacts = run_to_end(portal, "Contacts to Contact")  # a unique part of the name will do
    assert contacts["project"] == CONTACTS
    assert contacts["status"] == "Warning" and contacts["state"] == "finished"
    assert contacts["end_reason"] == "finished" and contacts["finished_at"]
    task = contacts["tasks"][0]
    assert set(task["counts"]) == {"read", "inserted", "updated", "unchanged", "errors"}
    assert {
        "key": "CON-01002-INFLUE",
        "leg": "CDS → Destination",
        "field": "DecisionMakingRoleCode",
        "message": ROLE_MESSAGE,
    } in task["errors"]
    # the CLI's --json shape for the same run, plus what the API adds
    summary = portal.context.history.run(contacts["id"])
    assert summary is not None
    cli = runs_json([summary])["runs"][0]
    assert {k: v for k, v in contacts.items() if k in cli and k != "tasks"} == {
        k: v for k, v in cli.items() if k != "tasks"
    }


def test_rerun_runs_only_the_failed_records_and_cancel_of_an_ended_run_says_so(
    portal: PortalClient,
) -> None:
    run_to_end(portal, ACCOUNTS)
    contacts = run_to_end(portal, CONTACTS)
    failed = contacts["tasks"][0]["counts"]["errors"]
    assert failed > 0

    again = api_post(portal, f"/api/runs/{contacts['id']}/rerun")
    assert again.status_code == 202
    rerun = wait_for(portal, again.json()["run_id"])
    assert rerun["rerun_of"] == contacts["id"] and rerun["trigger"] == "rerun"
    assert rerun["tasks"][0]["counts"]["read"] == failed

    cancel = api_post(portal, f"/api/runs/{contacts['id']}/cancel")
    assert cancel.status_code == 200
    assert cancel.json()["state"] == "ended"
    assert "already ended" in cancel.json()["message"]


def test_rerun_of_a_run_without_failures_is_refused(portal: PortalClient) -> None:
    accounts = run_to_end(portal, ACCOUNTS)
    clean = run_to_end(portal, ACCOUNTS)  # nothing changed: nothing failed this time
    assert clean["tasks"][0]["counts"]["errors"] == 0, accounts
    refused = api_post(portal, f"/api/runs/{clean['id']}/rerun")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "nothing-to-rerun"


def test_unknown_runs_and_projects_answer_404_in_the_error_shape(portal: PortalClient) -> None:
    for response in (
        portal.get("/api/runs/999"),
        api_post(portal, "/api/runs/999/cancel"),
        api_post(portal, "/api/runs/999/rerun"),
        api_post(portal, "/api/projects/No such project/runs", {}),
    ):
        assert response.status_code == 404, response.text
        error = response.json()["error"]
        assert error["code"] in ("not-found", "no-such-run") and error["message"]


def test_without_distributed_mode_there_are_no_jobs(portal: PortalClient) -> None:
    for response in (portal.get("/api/jobs/1"), api_post(portal, "/api/jobs/1/cancel")):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["message"] == (
            "this workspace is not in distributed mode: it has no job queue"
        )


def test_a_project_whose_prerequisite_never_ran_is_refused_with_the_problem(
    portal: PortalClient,
) -> None:
    response = api_post(portal, f"/api/projects/{CONTACTS}/runs", {"all_data": True})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "to have run first" in str(error)
    assert portal.get("/api/runs").json() == {"runs": [], "total": 0}


def test_the_list_filters_by_project_and_status_newest_first(portal: PortalClient) -> None:
    first = run_to_end(portal, ACCOUNTS)
    contacts = run_to_end(portal, CONTACTS)
    listed = portal.get("/api/runs").json()
    assert [r["id"] for r in listed["runs"]] == [contacts["id"], first["id"]]
    assert listed["total"] == 2
    assert "errors" not in listed["runs"][0]["tasks"][0]
    only = portal.get("/api/runs", params={"project": "Contacts to Contact"}).json()
    assert [r["id"] for r in only["runs"]] == [contacts["id"]]
    warning = portal.get("/api/runs", params={"status": "Warning"}).json()
    assert {r["status"] for r in warning["runs"]} == {"Warning"}
    assert portal.get("/api/runs", params={"until": "2000-01-01"}).json()["total"] == 0
    assert portal.get("/api/runs", params={"limit": 1}).json()["runs"][0]["id"] == contacts["id"]
    bad = portal.get("/api/runs", params={"status": "Splendid"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad-filter"
