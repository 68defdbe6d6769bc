"""Starting runs through the portal's API and waiting for them, as the runs tests do."""

from __future__ import annotations

import time
from typing import Any

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
