"""Starting runs through the portal's API and waiting for them, as the runs tests do."""

from __future__ import annotations

import time
from typing import Any

from integrator.engine.history import Counts, HistoryStore, RecordError, RunStatus
from tests.portal.client import PortalClient

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
#: the seed's failure: a role F&O does not have
ROLE_MESSAGE = "DecisionMakingRoleCode 'Influencer' does not exist in company USMF"


def api_post(portal: PortalClient, path: str, body: Any = None) -> Any:
    """POST ``body`` as JSON to the API, as the portal's own pages do (CSRF header)."""
    return portal.post(path, json=body, headers={"X-CSRF-Token": portal.csrf})


def wait_for(portal: PortalClient, run_id: int, timeout: float = 120.0) -> dict[str, Any]:
    """``GET /api/runs/{run_id}`` until the run has finished; its document."""
    deadline = time.monotonic() + timeout
    while True:
        response = portal.get(f"/api/runs/{run_id}")
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        if document["state"] == "finished":
            return document
        assert time.monotonic() < deadline, f"run {run_id} still running after {timeout} s"
        time.sleep(0.2)


def run_to_end(portal: PortalClient, project: str, *, all_data: bool = False) -> dict[str, Any]:
    """Start ``project`` through the API and wait for its run; the run's document."""
    started = api_post(portal, f"/api/projects/{project}/runs", {"all_data": all_data})
    assert started.status_code == 202, started.text
    return wait_for(portal, started.json()["run_id"])


def recorded_run(
    history: HistoryStore,
    project: str = ACCOUNTS,
    *,
    inserted: int = 0,
    failed: int = 0,
    causes: int = 1,
    trigger: str = "manual",
    status: RunStatus | None = None,
    finish: bool = True,
) -> int:
    """A run written to ``history`` as the engine writes one (start, one batch, finish), for
    pages that need many runs or many failed records; ``finish=False`` leaves it Running.
    Its ``failed`` records share ``causes`` messages."""
    run_id = history.log.start_run(project, ["Task"], mode="incremental", trigger=trigger)
    errors = [
        RecordError(
            task="Task",
            leg="Source → CDS",
            key=f"REC-{n:05d}",
            field="Name",
            message=f"Name is required (cause {n % causes})",
        )
        for n in range(failed)
    ]
    counts = Counts(read=inserted + failed, inserted=inserted, errors=failed)
    with history.engine.begin() as conn:
        history.log.add_batch(conn, run_id, 0, counts, errors)
    if finish:
        history.log.finish_task(run_id, 0, status)
        history.log.finish_run(run_id, status)
    else:
        history.log.start_task(run_id, 0)
    return run_id
