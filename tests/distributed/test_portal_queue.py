"""The portal on a workspace in distributed mode, over HTTP as a browser and an API client
reach it: Run enqueues a job the project page shows waiting (with Cancel), a second Run while
it waits is refused with 409, Cancel takes it out of the queue, and a job a worker process
runs leads to its run, which the execution history then lists."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from integrator.config.workspace import init_workspace
from integrator.sandbox.testing import SandboxHandle
from tests.distributed.conftest import make_distributed, start_worker
from tests.golden.dataset import load_sales
from tests.portal.client import PortalClient, signed_in_client
from tests.portal.runs_helpers import api_post
from tests.resilience import harness

ACCOUNTS = harness.ACCOUNTS
PAGE = f"/projects/{quote(ACCOUNTS, safe='')}"


@pytest.fixture
def portal(tmp_path: Path, sandbox: SandboxHandle, pg_history: str) -> Iterator[PortalClient]:
    """A signed-in portal on a distributed workspace (golden Sales data, PostgreSQL
    history); no worker runs until a test starts one."""
    load_sales(sandbox.data_dir)
    root = init_workspace(tmp_path / "ws", sandbox.url)
    make_distributed(root, pg_history)
    client = signed_in_client(root)
    with client:
        yield client
    client.context.close()


def _text(response: Any) -> str:
    return " ".join(response.text.split())


def test_run_waits_in_the_queue_is_refused_twice_and_can_be_cancelled(
    portal: PortalClient,
) -> None:
    started = portal.form(f"{PAGE}/run", {"all_data": "false"}, follow_redirects=False)
    assert started.status_code == 303
    assert started.headers["location"] == f"{PAGE}?job=1"
    shown = portal.get(started.headers["location"])
    assert "Queued (job 1): waits for a worker." in _text(shown)
    assert f'action="{PAGE}/jobs/1/cancel"' in shown.text

    again = portal.form(f"{PAGE}/run", {"all_data": "true"}, follow_redirects=False)
    assert again.status_code == 409
    assert (
        f"a run of {ACCOUNTS} already waits in the queue for a worker (job 1); "
        "it was not enqueued again"
    ) in _text(again)
    api = api_post(portal, f"/api/projects/{ACCOUNTS}/runs", {})
    assert api.status_code == 409
    assert api.json()["error"]["code"] == "already-waiting"
    assert api.json()["error"]["job_id"] == 1

    cancelled = portal.form(f"{PAGE}/jobs/1/cancel", {}, follow_redirects=True)
    assert cancelled.status_code == 200
    text = _text(cancelled)
    assert "Job 1 was cancelled: it had not started and will not run." in text
    assert "Queued (job" not in text
    assert portal.get("/api/jobs/1").json()["state"] == "cancelled"
    twice = api_post(portal, "/api/jobs/1/cancel")
    assert twice.status_code == 200 and twice.json()["state"] == "ended"
    assert api_post(portal, "/api/jobs/9/cancel").status_code == 404
    assert portal.get("/api/runs").json()["total"] == 0


def test_a_worker_runs_the_job_and_the_run_appears(portal: PortalClient, tmp_path: Path) -> None:
    enqueued = api_post(portal, f"/api/projects/{ACCOUNTS}/runs", {})
    assert enqueued.status_code == 202
    assert enqueued.json() == {
        "job_id": 1,
        "project": ACCOUNTS,
        "state": "waiting",
        "url": "/api/jobs/1",
    }
    assert enqueued.headers["location"] == "/api/jobs/1"
    assert portal.get("/api/jobs/1").json()["state"] == "waiting"

    worker = start_worker(portal.context.root, tmp_path / "worker.log", 5000)
    try:
        deadline = time.monotonic() + 120
        job = portal.get("/api/jobs/1").json()
        while job["state"] != "ended" and time.monotonic() < deadline:
            time.sleep(0.5)
            job = portal.get("/api/jobs/1").json()
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    assert job["state"] == "ended", (tmp_path / "worker.log").read_text()
    assert job["run_id"] == 1 and job["run_url"] == "/api/runs/1"
    run = portal.get(job["run_url"]).json()
    assert (run["project"], run["status"], run["trigger"]) == (ACCOUNTS, "Warning", "api")

    # the page the browser was sent to after Run now leads to the run, and lists no job
    page = _text(portal.get(f"{PAGE}?job=1"))
    assert 'Job 1 has ended: <a href="/runs/1">run 1</a>' in page
    assert "Queued (job" not in page
    assert 'href="/runs/1"' in portal.get("/runs").text

    # Re-run execution of its failed records: a job too, waiting (the worker has stopped)
    rerun = portal.form("/runs/1/rerun", {}, follow_redirects=False)
    assert rerun.status_code == 303 and rerun.headers["location"] == f"{PAGE}?job=2"
    assert "Queued (job 2): waits for a worker." in _text(portal.get(f"{PAGE}?job=2"))
    twice = api_post(portal, "/api/runs/1/rerun")
    assert twice.status_code == 409 and twice.json()["error"]["job_id"] == 2
    assert portal.get("/api/jobs/2").json()["state"] == "waiting"
