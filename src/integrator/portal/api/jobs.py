"""The queue's jobs in the JSON API (distributed mode): follow a job the API enqueued to its
run, and cancel one still waiting for a worker."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from integrator.portal.context import PortalContext
from integrator.portal.queued import cancel_job, find_job, is_distributed
from integrator.portal.responses import api_error, json_response

__all__ = ["routes"]


def _not_distributed() -> Response:
    return api_error(
        404, "not-found", "this workspace is not in distributed mode: it has no job queue"
    )


async def one(request: Request) -> Response:
    """``GET /api/jobs/{id}``: ``job_id``, ``project``, ``state`` (``waiting``, ``running``,
    ``ended``, ``cancelled``), ``run_id`` and ``run_url`` once a worker started its run (else
    ``null``); 404 when there is no such job or no queue."""
    portal: PortalContext = request.app.state.portal
    workspace = portal.workspace()
    if not is_distributed(workspace):
        return _not_distributed()
    job: int = request.path_params["job_id"]
    state = await run_in_threadpool(find_job, workspace, job)
    if state is None:
        return api_error(404, "not-found", f"there is no job {job} in the queue")
    return json_response(state.as_json())


async def cancel(request: Request) -> Response:
    """``POST /api/jobs/{id}/cancel``: 200 ``cancelled`` when it was waiting (it will not
    run); 409 ``job-running`` with its ``run_id`` (when known) when a worker runs it (cancel
    the run instead); 200 ``ended`` when it had ended; 404 when there is no such job."""
    portal: PortalContext = request.app.state.portal
    workspace = portal.workspace()
    if not is_distributed(workspace):
        return _not_distributed()
    job: int = request.path_params["job_id"]
    outcome = await run_in_threadpool(cancel_job, workspace, job)
    if outcome.state == "unknown":
        return api_error(404, "not-found", f"there is no job {job} in the queue")
    if outcome.state == "running":
        run = f" (run {outcome.run_id}: POST /api/runs/{outcome.run_id}/cancel)"
        return api_error(
            409,
            "job-running",
            f"job {job} has already been taken by a worker; cancel its run"
            f"{run if outcome.run_id is not None else ''}",
            job_id=job,
            run_id=outcome.run_id,
        )
    message = (
        f"job {job} ({outcome.project}) had not started and will not run"
        if outcome.state == "cancelled"
        else f"job {job} has already ended; nothing to cancel"
    )
    return json_response(
        {"job_id": job, "project": outcome.project, "state": outcome.state, "message": message}
    )


routes: list[BaseRoute] = [
    Route("/api/jobs/{job_id:int}", one, methods=["GET"]),
    Route("/api/jobs/{job_id:int}/cancel", cancel, methods=["POST"]),
]
