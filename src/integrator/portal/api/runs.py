"""The runs part of the JSON API: start a project's run, list runs, one run in the ``--json``
shape of SPEC §5 (plus ``state``), Re-run execution and Cancel."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from integrator.engine.control import request_cancel
from integrator.engine.history import RunStatus, RunSummary
from integrator.engine.history.documents import run_document
from integrator.errors import ConfigError, RunNotFound
from integrator.portal.context import PortalContext
from integrator.portal.queued import QueuedStart, enqueue_rerun, enqueue_run, is_distributed
from integrator.portal.responses import api_error, json_response
from integrator.portal.run_queries import count_runs, list_runs
from integrator.portal.views.runs import history_filter

__all__ = ["MAX_LIMIT", "routes", "run_json"]

#: the most runs ``GET /api/runs`` lists at once
MAX_LIMIT = 1000


def run_json(run: RunSummary, *, with_errors: bool = True) -> dict[str, Any]:
    """``run`` as the API gives it: the ``--json`` shape (SPEC §5) plus ``state``
    (``running`` or ``finished``), ``url`` and each task's ``truncated`` values."""
    document = run_document(run, with_errors=with_errors)
    document["state"] = "running" if run.status == RunStatus.RUNNING else "finished"
    document["url"] = f"/api/runs/{run.id}"
    for task_doc, task in zip(document["tasks"], run.tasks, strict=True):
        task_doc["truncated"] = [item.as_dict() for item in task.truncations]
    return document


def _started(run_id: int) -> Response:
    return json_response({"run_id": run_id, "url": f"/api/runs/{run_id}"}, status_code=202)


def _queued(queued: QueuedStart) -> Response:
    """202 for a job waiting for a worker: ``job_id``, ``project``, ``state`` and the ``url``
    (also the ``Location``) that follows it to its run."""
    url = f"/api/jobs/{queued.job_id}"
    response = json_response(
        {"job_id": queued.job_id, "project": queued.project, "state": "waiting", "url": url},
        status_code=202,
    )
    response.headers["Location"] = url
    return response


async def start_run(request: Request) -> Response:
    """``POST /api/projects/{name}/runs`` with ``{"all_data": bool}`` (optional): 202 with
    ``run_id`` and ``url``; 404 for an unknown project, 422 with its problems, 409 when it
    runs already, 503 when a system cannot be reached. In distributed mode the run is
    enqueued: 202 with ``job_id`` and ``url`` (``/api/jobs/N``, also the ``Location``), and
    409 ``already-waiting`` (with the waiting ``job_id``) when a run of it already waits."""
    portal: PortalContext = request.app.state.portal
    body = await request.body()
    try:
        options = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError:
        return api_error(400, "bad-request", "the body is not JSON")
    if not isinstance(options, dict) or not isinstance(options.get("all_data", False), bool):
        return api_error(400, "bad-request", 'the body is {"all_data": true|false}')
    try:
        name = portal.workspace().project_name(request.path_params["name"])
    except ConfigError as error:
        return api_error(404, "not-found", str(error))
    workspace = portal.workspace()
    if is_distributed(workspace):
        all_data = bool(options.get("all_data", False))
        queued = await run_in_threadpool(
            lambda: enqueue_run(workspace, name, all_data=all_data, trigger="api")
        )
        return _queued(queued)
    run_id = await run_in_threadpool(
        lambda: portal.launcher.start(name, all_data=options.get("all_data", False), trigger="api")
    )
    return _started(run_id)


async def list_all(request: Request) -> Response:
    """``GET /api/runs?project=&status=&since=&until=&limit=&offset=``: runs newest first
    (without their failed records) and ``total``, how many the filter selects."""
    portal: PortalContext = request.app.state.portal
    params = dict(request.query_params)
    selection, problems = history_filter(portal, params)
    if problems:
        return api_error(400, "bad-filter", "; ".join(problems))
    try:
        limit = min(MAX_LIMIT, max(1, int(params.get("limit", "50"))))
        offset = max(0, int(params.get("offset", "0")))
    except ValueError:
        return api_error(400, "bad-filter", "limit and offset are whole numbers")

    def load() -> tuple[list[RunSummary], int]:
        engine = portal.history.engine
        return list_runs(engine, selection, limit=limit, offset=offset), count_runs(
            engine, selection
        )

    runs, total = await run_in_threadpool(load)
    return json_response(
        {"runs": [run_json(run, with_errors=False) for run in runs], "total": total}
    )


def _run_id(request: Request) -> int:
    run_id: int = request.path_params["run_id"]
    return run_id


async def one(request: Request) -> Response:
    """``GET /api/runs/{id}``: the run with every failed record; 404 when there is none."""
    portal: PortalContext = request.app.state.portal
    run_id = _run_id(request)
    run = await run_in_threadpool(lambda: portal.history.run(run_id))
    if run is None:
        raise RunNotFound(run_id)
    return json_response(run_json(run))


async def rerun(request: Request) -> Response:
    """``POST /api/runs/{id}/rerun``: Re-run execution (only its failed records): 202 with the
    new ``run_id``; 409 ``nothing-to-rerun`` when none failed; 404 when there is no run. In
    distributed mode: 202 with the job (as ``POST /api/projects/{name}/runs``)."""
    portal: PortalContext = request.app.state.portal
    workspace = portal.workspace()
    if is_distributed(workspace):
        return _queued(await run_in_threadpool(enqueue_rerun, workspace, _run_id(request)))
    new_id = await run_in_threadpool(portal.launcher.rerun, _run_id(request))
    return _started(new_id)


async def cancel(request: Request) -> Response:
    """``POST /api/runs/{id}/cancel``: 202 when the run was asked to stop (after its current
    batch); 200 with a message when it had already ended, or its process was gone (recorded
    Interrupted now); 404 when there is no run."""
    portal: PortalContext = request.app.state.portal
    run_id = _run_id(request)
    outcome = await run_in_threadpool(
        lambda: request_cancel(portal.history, run_id, workspace=portal.workspace())
    )
    run = outcome.run
    if outcome.state == "requested":
        message = f"run {run.id} stops after its current batch commits and is recorded Cancelled"
        status = 202
    elif outcome.state == "dead":
        message = f"run {run.id} was no longer running ({run.message}): recorded {run.status}"
        status = 200
    else:
        message = f"run {run.id} has already ended ({run.status}); nothing to cancel"
        status = 200
    return json_response(
        {"run_id": run.id, "state": outcome.state, "status": str(run.status), "message": message},
        status_code=status,
    )


routes: list[BaseRoute] = [
    Route("/api/projects/{name}/runs", start_run, methods=["POST"]),
    Route("/api/runs", list_all, methods=["GET"]),
    Route("/api/runs/{run_id:int}", one, methods=["GET"]),
    Route("/api/runs/{run_id:int}/rerun", rerun, methods=["POST"]),
    Route("/api/runs/{run_id:int}/cancel", cancel, methods=["POST"]),
]
