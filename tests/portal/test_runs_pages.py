"""The execution history and a run's page as a person sees them: the seed's failures grouped
by cause with the fix, Run project, Re-run execution, Cancel, live progress, paging."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from integrator.engine.history.clock import iso
from integrator.engine.history.tables import runs
from tests.portal.client import PortalClient
from tests.portal.runs_helpers import (
    ACCOUNTS,
    CONTACTS,
    ROLE_MESSAGE,
    recorded_run,
    run_to_end,
    wait_for,
)


def _text(response: object) -> str:
    return html.unescape(response.text)  # type: ignore[attr-defined]


def _plain(page: str) -> str:
    """The page's text without its tags."""
    return re.sub(r"<[^>]+>", "", page)


def _run_id(location: str) -> int:
    found = re.fullmatch(r"/runs/(\d+)", location)
    assert found, location
    return int(found.group(1))


def test_run_project_opens_the_run_page_with_the_causes_and_their_fix(
    portal: PortalClient,
) -> None:
    started = portal.form(f"/projects/{ACCOUNTS}/run", {}, follow_redirects=False)
    assert started.status_code == 303
    wait_for(portal, _run_id(started.headers["location"]))
    started = portal.form(f"/projects/{CONTACTS}/run", {"all_data": "1"}, follow_redirects=False)
    run_id = _run_id(started.headers["location"])
    run = wait_for(portal, run_id)
    assert run["trigger"] == "manual" and run["mode"] == "all-data"

    page = _text(portal.get(f"/runs/{run_id}"))
    assert f"{CONTACTS} {run['started_at'][:19]}Z Immediate" in page  # the run's name
    assert "Warning" in page and "All data" in page
    assert "Failed records by cause" in page
    assert f"CDS → Destination, DecisionMakingRoleCode: {ROLE_MESSAGE}" in _plain(page)
    assert "Fix: Add the decision-making role 'Influencer' in F&O" in _plain(page)
    assert "CON-01002-INFLUE" in page
    for heading in ("Record ID in source", "Leg", "Field with issue", "Error message"):
        assert f'<th scope="col">{heading}</th>' in page
    assert ">Re-run execution</button>" in page
    assert ">Cancel</button>" not in page  # it has ended
    assert 'hx-trigger="every 2s"' not in page


def test_re_run_execution_from_the_run_page_runs_only_the_failed_records(
    portal: PortalClient,
) -> None:
    run_to_end(portal, ACCOUNTS)
    contacts = run_to_end(portal, CONTACTS)
    again = portal.form(f"/runs/{contacts['id']}/rerun", {}, follow_redirects=False)
    assert again.status_code == 303
    new_id = _run_id(again.headers["location"])
    rerun = wait_for(portal, new_id)
    assert rerun["tasks"][0]["counts"]["read"] == contacts["tasks"][0]["counts"]["errors"]
    page = _text(portal.get(f"/runs/{new_id}"))
    assert " Re-run</h1>" in page
    assert f'of <a href="/runs/{contacts["id"]}">run {contacts["id"]}</a>' in page


def test_a_project_with_problems_does_not_start_and_the_page_says_why(
    portal: PortalClient,
) -> None:
    refused = portal.form(f"/projects/{CONTACTS}/run", {})
    assert refused.status_code == 422
    assert f"{CONTACTS} did not start" in _text(refused)
    assert "to have run first" in _text(refused)
    unknown = portal.form("/projects/Nothing like it/run", {})
    assert unknown.status_code == 404
    assert portal.get("/api/runs").json()["total"] == 0


def test_cancel_asks_a_running_run_to_stop_and_says_when_one_had_ended(
    portal: PortalClient,
) -> None:
    history = portal.context.history
    running = recorded_run(history, finish=False)
    page = _text(portal.get(f"/runs/{running}"))
    assert ">Cancel</button>" in page and ">Re-run execution</button>" not in page
    assert f'hx-get="/runs/{running}/progress" hx-trigger="every 2s"' in page
    asked = portal.form(f"/runs/{running}/cancel", {}, follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/runs/{running}?notice=cancel-requested"
    page = _text(portal.get(asked.headers["location"]))
    assert "Cancel asked: the run stops after its current batch commits" in page
    assert "Cancel requested" in page

    ended = recorded_run(history, inserted=3)
    after = portal.form(f"/runs/{ended}/cancel", {})
    assert "The run had already ended: there was nothing to cancel." in _text(after)
    api = portal.post(f"/api/runs/{running}/cancel", headers={"X-CSRF-Token": portal.csrf})
    assert api.status_code == 202 and api.json()["state"] == "requested"


def test_live_progress_updates_while_running_then_reloads_the_page(portal: PortalClient) -> None:
    history = portal.context.history
    run_id = recorded_run(history, inserted=5, finish=False)
    progress = portal.get(f"/runs/{run_id}/progress", headers={"HX-Request": "true"})
    assert progress.status_code == 200
    assert "HX-Refresh" not in progress.headers
    assert 'hx-trigger="every 2s"' in progress.text and "<html" not in progress.text
    assert '<td class="num">5</td>' in progress.text
    history.log.finish_task(run_id, 0)
    history.log.finish_run(run_id)
    ended = portal.get(f"/runs/{run_id}/progress", headers={"HX-Request": "true"})
    assert ended.headers["HX-Refresh"] == "true"
    assert "Completed" in ended.text


def test_a_running_run_whose_heartbeat_stopped_says_since_when(portal: PortalClient) -> None:
    history = portal.context.history
    run_id = recorded_run(history, finish=False)
    old = iso(datetime.now(UTC) - timedelta(hours=2))
    with history.engine.begin() as conn:
        conn.execute(runs.update().where(runs.c.id == run_id).values(heartbeat_at=old))
    note = f"(no heartbeat since {old.replace('T', ' ')[:19]} UTC)"
    assert note in _text(portal.get(f"/runs/{run_id}"))
    assert note in _text(portal.get("/runs"))


def test_ten_thousand_failed_records_are_shown_by_cause_and_one_page_at_a_time(
    portal: PortalClient,
) -> None:
    run_id = recorded_run(portal.context.history, inserted=10, failed=10_000, causes=3)
    page = _text(portal.get(f"/runs/{run_id}"))
    assert "10000 records failed." in page
    assert page.count('<li>\n      <p class="cause">') == 3
    assert "3334 records</strong>\n        (REC-00000, REC-00003, REC-00006 …)" in page
    assert "Fix: Fill in Name in Sales, or give the mapping row for it a Default" in _plain(page)
    assert page.count("<td><code>REC-") == 100
    assert "Records 1–100 of 10000" in page
    last = _text(portal.get(f"/runs/{run_id}?page=100"))
    assert "REC-09999" in last and "Records 9901–10000 of 10000" in last
    assert "Next records" not in last and "Previous records" in last

    scattered = recorded_run(portal.context.history, failed=120, causes=120)
    page = _text(portal.get(f"/runs/{scattered}"))
    assert "120 records failed; the 50 largest of 120 causes." in page
    assert page.count('<li>\n      <p class="cause">') == 50


def test_the_history_filters_by_status_and_pages_by_fifty(portal: PortalClient) -> None:
    history = portal.context.history
    for _ in range(55):
        recorded_run(history, inserted=2)
    warning = recorded_run(history, CONTACTS, inserted=1, failed=2, trigger="schedule")
    everything = _text(portal.get("/runs"))
    assert "56 runs, newest first · page 1 of 2" in everything
    assert everything.count('<tr>\n      <td><a href="/runs/') == 50
    assert "Older runs" in everything
    assert everything.count(">Re-run execution</button>") == 1  # only the run with errors
    older = _text(portal.get("/runs?page=2"))
    assert older.count('<tr>\n      <td><a href="/runs/') == 6 and "Newer runs" in older

    only = _text(portal.get("/runs", params={"status": "Warning"}))
    assert "1 run, newest first" in only
    assert f'<a href="/runs/{warning}">{CONTACTS} ' in only and " Scheduled</a>" in only
    row = only[only.index(f'<a href="/runs/{warning}">') :]
    assert '<td class="num">1</td>\n      <td class="num">2</td>' in row  # upserts, errors
    assert '<option value="Warning" selected>' in only
    assert "0 runs" in _text(portal.get("/runs", params={"until": "2001-01-01"}))
    assert "No runs match this filter." in _text(portal.get("/runs", params={"status": "Error"}))
    bad = _text(portal.get("/runs", params={"since": "yesterday"}))
    assert "Left out of the filter: since 'yesterday' is not a date" in bad


def test_an_unknown_run_is_a_404_page(portal: PortalClient) -> None:
    response = portal.get("/runs/12345")
    assert response.status_code == 404
    assert "Not found" in response.text
