"""A project's queued job on its page (distributed mode): the job waiting for a worker with
its Cancel button, or where the job the browser was sent with (``?job=N``) went since; and
the Cancel button's action."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from integrator.config.workspace import Workspace
from integrator.portal.app import path_segment
from integrator.portal.context import PortalContext
from integrator.portal.project_overview import exact_project
from integrator.portal.queued import cancel_job, find_job, is_distributed, waiting_job

__all__ = ["job_values", "routes"]

#: what the page says after Cancel, by :class:`~integrator.distributed.QueuedCancel` state
CANCEL_NOTICES = {
    "cancelled": "Job {job} was cancelled: it had not started and will not run.",
    "running": "Job {job} has already been taken by a worker: cancel its run instead.",
    "ended": "Job {job} has already ended; nothing to cancel.",
    "unknown": "There is no job {job} in the queue.",
}


def job_values(workspace: Workspace, project: str, asked: str | None) -> dict[str, Any]:
    """What the project page shows of the queue: ``queued_job`` (the job that waits, to be
    cancelled), and ``job_notice`` (where job ``asked`` is now, when it no longer waits:
    running as run N, or ended). Empty outside distributed mode."""
    if not is_distributed(workspace):
        return {}
    values: dict[str, Any] = {"queued_job": waiting_job(workspace, project), "job_run": None}
    if asked is not None and asked.isdigit() and int(asked) != values["queued_job"]:
        state = find_job(workspace, int(asked))
        if state is not None and state.project == project:
            values["job_notice"] = {
                "running": f"Job {state.job_id} was taken by a worker",
                "ended": f"Job {state.job_id} has ended",
                "cancelled": f"Job {state.job_id} was cancelled",
                "waiting": f"Job {state.job_id} waits for a worker",
            }[state.state]
            values["job_run"] = state.run_id
    return values


async def cancel_queued(request: Request) -> Response:
    """Cancel a job waiting for a worker, back to the project's page saying what happened."""
    portal: PortalContext = request.app.state.portal
    workspace = portal.workspace()
    name = exact_project(workspace, request.path_params["name"])
    job: int = request.path_params["job_id"]
    outcome = await run_in_threadpool(cancel_job, workspace, job)
    return RedirectResponse(
        f"/projects/{path_segment(name)}?cancelled={outcome.state}&job={job}", status_code=303
    )


def cancel_notice(state: str | None, job: str | None) -> str | None:
    """The line the page shows after Cancel (``?cancelled=STATE&job=N``)."""
    if state not in CANCEL_NOTICES or job is None or not job.isdigit():
        return None
    return CANCEL_NOTICES[state].format(job=job)


routes: list[BaseRoute] = [
    Route("/projects/{name}/jobs/{job_id:int}/cancel", cancel_queued, methods=["POST"]),
]
