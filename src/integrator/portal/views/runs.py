"""The execution history, a run's page (its live progress, its failed records grouped by cause
with their fix) and the buttons that start, re-run and cancel runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from integrator.engine.control import request_cancel
from integrator.engine.history import RunStatus, RunSummary
from integrator.engine.liveness import last_sign_of_life, looks_dead
from integrator.errors import ConfigError, RunNotFound
from integrator.portal.app import path_segment
from integrator.portal.context import PortalContext
from integrator.portal.queued import QueuedStart, enqueue_rerun, enqueue_run, is_distributed
from integrator.portal.responses import page
from integrator.portal.run_queries import (
    RunFilter,
    bound,
    count_runs,
    failed_records_page,
    failure_causes,
    list_runs,
    run_overview,
)

__all__ = [
    "FAILED_PAGE_SIZE",
    "HISTORY_PAGE_SIZE",
    "STATUS_CHOICES",
    "TRIGGER_LABELS",
    "routes",
    "run_name",
]

HISTORY_PAGE_SIZE = 50
FAILED_PAGE_SIZE = 100
#: the statuses the history's filter offers, in Data Integrator's order
STATUS_CHOICES = (
    RunStatus.COMPLETED,
    RunStatus.WARNING,
    RunStatus.ERROR,
    RunStatus.RUNNING,
    RunStatus.INTERRUPTED,
    RunStatus.CANCELLED,
    RunStatus.SKIPPED,
)
#: how a run's name says who started it, in Data Integrator's words
TRIGGER_LABELS = {"manual": "Immediate", "schedule": "Scheduled", "rerun": "Re-run", "api": "API"}
#: who started a run, in a sentence of the run page
_STARTED_BY = {
    "manual": "a person (Run project, or integrator run)",
    "schedule": "the schedule",
    "rerun": "Re-run execution",
    "api": "a program, through the API",
}
_NOTICES = {
    "cancel-requested": (
        "info",
        "Cancel asked: the run stops after its current batch commits and is recorded Cancelled.",
    ),
    "already-ended": ("info", "The run had already ended: there was nothing to cancel."),
    "dead": (
        "warning",
        "The run's process was gone: it is recorded Interrupted now; the next run goes on "
        "from its last committed batch.",
    ),
}


def run_name(run: RunSummary) -> str:
    """A run's name as the execution history shows it: ``<project> <ISO time> <how started>``
    (``Immediate``, ``Scheduled``, ``Re-run`` or ``API``)."""
    started = run.started_at[:19] + "Z"
    return f"{run.project} {started} {TRIGGER_LABELS.get(run.trigger, run.trigger)}"


def _stale_note(run: RunSummary) -> str | None:
    """For a Running run whose heartbeat stopped, since when (its process may be gone: the
    next run of the project, or integrator serve, records it Interrupted)."""
    if looks_dead(run):
        return f"(no heartbeat since {_time(last_sign_of_life(run))})"
    return None


def _time(moment: str | None) -> str:
    return "" if moment is None else moment.replace("T", " ")[:19] + " UTC"


def _last_update(run: RunSummary) -> str:
    return run.finished_at or run.heartbeat_at or run.started_at


@dataclass(frozen=True)
class RunRow:
    """A run as the pages show it."""

    run: RunSummary
    name: str
    #: "(no heartbeat since …)" for a Running run that looks dead
    stale_note: str | None
    submitted: str
    last_update: str
    upserts: int
    errors: int

    @property
    def running(self) -> bool:
        """Whether the run is still going (Running in the history)."""
        return self.run.status == RunStatus.RUNNING

    @property
    def can_rerun(self) -> bool:
        """Re-run execution is offered: the run ended with failed records."""
        return self.errors > 0 and not self.running


def _row(run: RunSummary) -> RunRow:
    counts = run.counts
    return RunRow(
        run=run,
        name=run_name(run),
        stale_note=_stale_note(run),
        submitted=run.started_at,
        last_update=_last_update(run),
        upserts=counts.inserted + counts.updated,
        errors=counts.errors,
    )


def _page_number(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


def _query(values: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in values.items() if v not in (None, "")})


# -- the execution history ---------------------------------------------------------------------


def history_filter(portal: PortalContext, params: dict[str, str]) -> tuple[RunFilter, list[str]]:
    """The runs ``params`` (``project``, ``status``, ``since``, ``until``) select, and what
    in them could not be understood (left out of the filter). Shared by the page and the
    API."""
    problems: list[str] = []
    project: str | None = None
    if params.get("project"):
        try:
            project = portal.workspace().project_name(params["project"])
        except ConfigError:
            project = params["project"]  # a project removed since: its runs are still there
    status: RunStatus | None = None
    if params.get("status"):
        try:
            status = RunStatus(params["status"])
        except ValueError:
            problems.append(f"status {params['status']!r} is not a run status")
    since = until = None
    for name in ("since", "until"):
        try:
            value = bound(params.get(name), end=name == "until")
        except ValueError:
            problems.append(f"{name} {params[name]!r} is not a date (YYYY-MM-DD) or time")
            continue
        if name == "since":
            since = value
        else:
            until = value
    return RunFilter(project=project, status=status, since=since, until=until), problems


async def history_page(request: Request) -> Response:
    portal: PortalContext = request.app.state.portal
    params = dict(request.query_params)
    selection, problems = history_filter(portal, params)
    number = _page_number(request)

    def load() -> tuple[list[RunSummary], int, list[str]]:
        engine = portal.history.engine
        total = count_runs(engine, selection)
        runs = list_runs(
            engine,
            selection,
            limit=HISTORY_PAGE_SIZE,
            offset=(number - 1) * HISTORY_PAGE_SIZE,
        )
        return runs, total, sorted(portal.workspace().project_files)

    runs, total, projects = await run_in_threadpool(load)
    filters = {k: params.get(k, "") for k in ("project", "status", "since", "until")}
    pages = max(1, -(-total // HISTORY_PAGE_SIZE))
    return page(
        request,
        "runs/history.html",
        {
            "rows": [_row(run) for run in runs],
            "total": total,
            "filters": filters,
            "selected_project": selection.project or "",
            "problems": problems,
            "statuses": [str(s) for s in STATUS_CHOICES],
            "projects": projects,
            "page_number": number,
            "pages": pages,
            "previous_url": (
                f"/runs?{_query({**filters, 'page': number - 1})}" if number > 1 else None
            ),
            "next_url": (
                f"/runs?{_query({**filters, 'page': number + 1})}" if number < pages else None
            ),
        },
    )


# -- a run's page ------------------------------------------------------------------------------


def _run_id(request: Request) -> int:
    run_id: int = request.path_params["run_id"]
    return run_id


async def _overview(portal: PortalContext, run_id: int) -> RunSummary:
    run = await run_in_threadpool(lambda: run_overview(portal.history.engine, run_id))
    if run is None:
        raise RunNotFound(run_id)
    return run


def _progress_values(run: RunSummary) -> dict[str, Any]:
    return {
        "row": _row(run),
        "started_by": _STARTED_BY.get(run.trigger, run.trigger),
        "time": _time,
    }


async def run_page(request: Request) -> Response:
    portal: PortalContext = request.app.state.portal
    run_id = _run_id(request)
    run = await _overview(portal, run_id)
    number = _page_number(request)

    def load() -> dict[str, Any]:
        engine = portal.history.engine
        workspace = portal.workspace()
        file = workspace.project_files.get(run.project)
        project_file = str(workspace.root / file) if file else None
        causes, cause_total = failure_causes(engine, run_id, project_file=project_file)
        records, record_total = failed_records_page(
            engine, run_id, limit=FAILED_PAGE_SIZE, offset=(number - 1) * FAILED_PAGE_SIZE
        )
        return {
            "causes": causes,
            "cause_total": cause_total,
            "records": records,
            "record_total": record_total,
            "project_known": file is not None,
        }

    values = await run_in_threadpool(load)
    pages = max(1, -(-values["record_total"] // FAILED_PAGE_SIZE))
    notice = _NOTICES.get(request.query_params.get("notice", ""))
    return page(
        request,
        "runs/run.html",
        {
            **_progress_values(run),
            **values,
            "notice": notice,
            "page_number": number,
            "pages": pages,
            "first_record": (number - 1) * FAILED_PAGE_SIZE + 1,
            "previous_url": f"/runs/{run_id}?page={number - 1}#failed" if number > 1 else None,
            "next_url": f"/runs/{run_id}?page={number + 1}#failed" if number < pages else None,
        },
    )


async def run_progress(request: Request) -> Response:
    """The run's status and counts (htmx polls it every 2 s while the run runs); once the run
    has ended, htmx is told to reload the page, which then shows its failed records."""
    portal: PortalContext = request.app.state.portal
    run = await _overview(portal, _run_id(request))
    headers = {}
    if run.status != RunStatus.RUNNING and request.headers.get("hx-request"):
        headers["HX-Refresh"] = "true"
    return page(request, "runs/_progress.html", _progress_values(run), headers=headers)


# -- buttons -----------------------------------------------------------------------------------


def queued_url(queued: QueuedStart) -> str:
    """The project page that shows ``queued``'s job waiting for a worker."""
    return f"/projects/{path_segment(queued.project)}?job={queued.job_id}"


async def rerun(request: Request) -> Response:
    """Re-run execution: the new run's page; in distributed mode the job is enqueued and the
    browser goes to the project's page, which shows it waiting."""
    portal: PortalContext = request.app.state.portal
    workspace = portal.workspace()
    if is_distributed(workspace):
        queued = await run_in_threadpool(enqueue_rerun, workspace, _run_id(request))
        return RedirectResponse(queued_url(queued), status_code=303)
    new_id = await run_in_threadpool(portal.launcher.rerun, _run_id(request))
    return RedirectResponse(f"/runs/{new_id}", status_code=303)


async def cancel(request: Request) -> Response:
    portal: PortalContext = request.app.state.portal
    run_id = _run_id(request)
    outcome = await run_in_threadpool(
        lambda: request_cancel(portal.history, run_id, workspace=portal.workspace())
    )
    notice = {"requested": "cancel-requested", "ended": "already-ended", "dead": "dead"}
    return RedirectResponse(f"/runs/{run_id}?notice={notice[outcome.state]}", status_code=303)


async def run_project(request: Request) -> Response:
    """Run project (``all_data`` absent) or Run project with all data (``all_data=1``): the
    run starts (trigger *manual*) and the browser goes to its page; a project with problems
    does not start, and the page lists them. In distributed mode the run is enqueued and the
    browser goes to the project's page, which shows the job waiting for a worker."""
    portal: PortalContext = request.app.state.portal
    form = await request.form()
    all_data = form.get("all_data") in ("1", "true", "on")
    workspace = portal.workspace()
    try:
        name = workspace.project_name(request.path_params["name"])
    except ConfigError as error:
        return page(request, "error.html", {"status": 404, "message": str(error)}, status_code=404)
    try:
        if is_distributed(workspace):
            queued = await run_in_threadpool(
                lambda: enqueue_run(workspace, name, all_data=all_data, trigger="manual")
            )
            return RedirectResponse(queued_url(queued), status_code=303)
        run_id = await run_in_threadpool(
            lambda: portal.launcher.start(name, all_data=all_data, trigger="manual")
        )
    except ConfigError as error:
        return page(
            request,
            "runs/not_started.html",
            {"project": name, "message": str(error), "problems": error.problems},
            status_code=422,
        )
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


routes: list[BaseRoute] = [
    Route("/runs", history_page, methods=["GET"]),
    Route("/runs/{run_id:int}", run_page, methods=["GET"]),
    Route("/runs/{run_id:int}/progress", run_progress, methods=["GET"]),
    Route("/runs/{run_id:int}/rerun", rerun, methods=["POST"]),
    Route("/runs/{run_id:int}/cancel", cancel, methods=["POST"]),
    Route("/projects/{name}/run", run_project, methods=["POST"]),
]
