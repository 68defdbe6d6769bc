"""The projects pages: the list, New project (a wizard over a template, a connection set and
its organization mapping), a project's page (Tasks, Connections, Scheduling, Execution
history), its schedule and notification settings, Save as template and Delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from integrator.cli.project_view import SYSTEM_NAMES
from integrator.config.edit import EditConflict
from integrator.config.new_project import check_new_project_name, create_project
from integrator.config.projects_admin import (
    delete_project,
    dependents_of,
    set_schedule_and_notify,
)
from integrator.config.workspace import Workspace, save_project_as_template
from integrator.errors import ConfigError, ConfigProblem
from integrator.portal.api.templates import template_json
from integrator.portal.app import path_segment
from integrator.portal.connection_sets import connection_set_json
from integrator.portal.context import PortalContext
from integrator.portal.project_overview import exact_project, overview
from integrator.portal.responses import page, problem_json
from integrator.portal.views.project_jobs import cancel_notice, job_values
from integrator.portal.views.project_schedule import UNITS, ZONES, schedule_form, schedule_from_form
from integrator.schedule import describe

__all__ = ["routes"]

TABS = {
    "tasks": "Tasks",
    "connections": "Connections",
    "scheduling": "Scheduling",
    "history": "Execution history",
}


def _portal(request: Request) -> PortalContext:
    portal: PortalContext = request.app.state.portal
    return portal


def _messages(error: ConfigError) -> list[dict[str, Any]]:
    return [problem_json(p) for p in error.problems]


def _project_url(name: str, tab: str | None = None) -> str:
    url = f"/projects/{path_segment(name)}"
    return f"{url}?tab={tab}" if tab else url


# -- the list -----------------------------------------------------------------------------------


async def projects_page(request: Request) -> Response:
    portal = _portal(request)
    rows = await run_in_threadpool(overview, portal.workspace(), portal.history)
    return page(
        request,
        "projects/list.html",
        {"rows": rows, "deleted": request.query_params.get("deleted")},
    )


# -- New project --------------------------------------------------------------------------------

WIZARD_STEPS = (
    ("template", "Select a template"),
    ("connections", "Connections"),
    ("organizations", "Organizations"),
    ("confirm", "Confirm"),
)


@dataclass
class WizardChoice:
    """What the New project wizard has been told so far."""

    name: str
    template: str
    connection_set: str


def _wizard_step(workspace: Workspace, choice: WizardChoice, step: str) -> tuple[str, list[str]]:
    """The step the wizard shows when asked for ``step``: that one, or the first earlier step
    whose answer is missing or wrong, with why."""
    order = [key for key, _ in WIZARD_STEPS]
    wanted = order.index(step) if step in order else 0
    if wanted >= 1:
        problems: list[str] = []
        if not any(
            e.name == choice.template and e.template is not None for e in workspace.templates
        ):
            problems.append(
                "Select a template."
                if not choice.template
                else f'There is no usable template named "{choice.template}".'
            )
        try:
            check_new_project_name(workspace, choice.name)
        except ConfigError as error:
            problems.append(str(error))
        if problems:
            return "template", problems
    if wanted >= 2 and choice.connection_set not in workspace.connection_sets:
        return "connections", ["Select a connection set."]
    return order[wanted], []


async def new_project_page(request: Request) -> Response:
    portal = _portal(request)
    workspace = portal.workspace()
    query = request.query_params
    choice = WizardChoice(
        name=query.get("name", ""),
        template=query.get("template", ""),
        connection_set=query.get("connection_set", "default"),
    )
    step, problems = _wizard_step(workspace, choice, query.get("step", "template"))
    return _wizard(request, workspace, choice, step, problems)


def _wizard(
    request: Request,
    workspace: Workspace,
    choice: WizardChoice,
    step: str,
    problems: list[str],
    status_code: int = 200,
) -> Response:
    sets = {
        name: connection_set_json(name, connection_set)
        for name, connection_set in workspace.connection_sets.items()
    }
    return page(
        request,
        "projects/new.html",
        {
            "steps": WIZARD_STEPS,
            "step": step,
            "choice": choice,
            "problems": problems,
            "templates": [template_json(e) for e in workspace.templates if e.template],
            "connection_sets": sets,
            "chosen_set": sets.get(choice.connection_set),
        },
        status_code=status_code,
    )


async def create_project_action(request: Request) -> Response:
    portal = _portal(request)
    workspace = portal.workspace()
    form = await request.form()
    choice = WizardChoice(
        name=str(form.get("name", "")),
        template=str(form.get("template", "")),
        connection_set=str(form.get("connection_set", "default")),
    )
    try:
        path = await run_in_threadpool(
            create_project, workspace, choice.name, choice.template, choice.connection_set
        )
    except ConfigError as error:
        return _wizard(request, workspace, choice, "confirm", [str(error)], status_code=422)
    return RedirectResponse(_project_url(path.stem) + "?created=1", 303)


# -- a project's page ----------------------------------------------------------------------------


def _project_page_values(portal: PortalContext, name: str, tab: str) -> dict[str, Any]:
    workspace = portal.workspace()
    project = workspace.project(name)
    validation = portal.validate(name)
    connection_set = workspace.connection_sets.get(project.connection_set)
    tasks = []
    for index, task in enumerate(project.tasks):
        source = f"{SYSTEM_NAMES[project.source_system]}.{task.source_entity}"
        destination = f"{SYSTEM_NAMES[project.destination_system]}.{task.destination_entity}"
        tasks.append(
            {
                "index": index,
                "sequence": index + 1,
                "name": task.name,
                "source": source,
                "via": f"CDS.{task.cds_entity}" if task.cds_entity else None,
                "destination": destination,
                "source_filter": task.source_filter,
            }
        )
    latest = portal.history.runs(name, limit=5) if tab == "history" else []
    return {
        "name": name,
        "file": workspace.project_files[name],
        "project": project,
        "tab": tab,
        "tabs": TABS,
        "tasks": tasks,
        "problems": [problem_json(p) for p in validation.problems],
        "unavailable": validation.unavailable,
        "connection_set": (
            connection_set_json(project.connection_set, connection_set) if connection_set else None
        ),
        "schedule_text": describe(project.schedule),
        "form": schedule_form(workspace, name),
        "units": UNITS,
        "zones": ZONES,
        "smtp": workspace.settings.smtp is not None,
        "recent_runs": latest,
        "dependents": dependents_of(workspace, name),
    }


async def project_page(request: Request) -> Response:
    portal = _portal(request)
    name = exact_project(portal.workspace(), request.path_params["name"])
    tab = request.query_params.get("tab", "tasks")
    tab = tab if tab in TABS else "tasks"
    values = await run_in_threadpool(_project_page_values, portal, name, tab)
    query = request.query_params
    cancelled = cancel_notice(query.get("cancelled"), query.get("job"))
    asked = None if cancelled else query.get("job")
    values.update(await run_in_threadpool(job_values, portal.workspace(), name, asked))
    values["cancel_notice"] = cancelled
    values["notice"] = (
        "The project was created."
        if query.get("created")
        else "The schedule was saved."
        if query.get("saved")
        else f'Saved as template "{query["template_saved"]}".'
        if query.get("template_saved")
        else None
    )
    return page(request, "projects/show.html", values)


async def save_schedule(request: Request) -> Response:
    portal = _portal(request)
    workspace = portal.workspace()
    name = exact_project(workspace, request.path_params["name"])
    form = await request.form()
    problems: list[dict[str, Any]] = []
    diff = None
    try:
        schedule, notify = schedule_from_form(form)
        await run_in_threadpool(
            set_schedule_and_notify,
            workspace,
            name,
            schedule,
            notify,
            expected_version=str(form.get("version") or "") or None,
        )
    except ValueError as error:
        file = workspace.project_files[name]
        problems = [problem_json(ConfigProblem(file, None, "schedule", str(error)))]
    except EditConflict as conflict:
        problems = [{"file": conflict.file, "line": None, "path": "", "message": str(conflict)}]
        diff = conflict.diff
    except ConfigError as error:
        problems = _messages(error)
    if not problems:
        return RedirectResponse(_project_url(name, "scheduling") + "&saved=1", 303)
    values = await run_in_threadpool(_project_page_values, portal, name, "scheduling")
    values["form"].update(
        {
            "recur": form.get("recurrence") == "recur",
            "every": form.get("every", ""),
            "unit": form.get("unit", ""),
            "start_date": form.get("start_date", ""),
            "start_time": form.get("start_time", ""),
            "end_date": form.get("end_date", ""),
            "end_time": form.get("end_time", ""),
            "time_zone": form.get("time_zone", "UTC"),
            "notify": bool(form.get("notify")),
            "emails": form.get("emails", ""),
        }
    )
    values.update({"schedule_problems": problems, "schedule_diff": diff, "notice": None})
    return page(request, "projects/show.html", values, status_code=422 if diff is None else 409)


# -- Save as template ------------------------------------------------------------------------------


async def save_as_template(request: Request) -> Response:
    portal = _portal(request)
    workspace = portal.workspace()
    name = exact_project(workspace, request.path_params["name"])
    form = await request.form()
    template = str(form.get("template_name", ""))
    try:
        await run_in_threadpool(save_project_as_template, workspace, name, template)
    except ConfigError as error:
        values = await run_in_threadpool(_project_page_values, portal, name, "tasks")
        values.update(
            {"template_problems": [str(error)], "template_name": template, "notice": None}
        )
        return page(request, "projects/show.html", values, status_code=422)
    return RedirectResponse(
        f"{_project_url(name)}?template_saved={path_segment(template.strip())}", 303
    )


# -- Delete ---------------------------------------------------------------------------------------


def _delete_confirmation(
    request: Request, workspace: Workspace, name: str, problem: str | None = None
) -> Response:
    """The Delete confirmation page; with ``problem``, the refusal (409) saying why."""
    return page(
        request,
        "projects/delete.html",
        {
            "name": name,
            "file": workspace.project_files[name],
            "dependents": dependents_of(workspace, name),
            "problem": problem,
        },
        status_code=200 if problem is None else 409,
    )


async def delete_page(request: Request) -> Response:
    workspace = _portal(request).workspace()
    name = exact_project(workspace, request.path_params["name"])
    return _delete_confirmation(request, workspace, name)


async def delete_action(request: Request) -> Response:
    portal = _portal(request)
    workspace = portal.workspace()
    name = exact_project(workspace, request.path_params["name"])
    try:
        await run_in_threadpool(delete_project, workspace, name)
    except ConfigError as error:
        return _delete_confirmation(request, workspace, name, str(error))
    return RedirectResponse(f"/projects?deleted={path_segment(name)}", 303)


routes: list[BaseRoute] = [
    Route("/projects", projects_page, methods=["GET"]),
    Route("/projects/new", new_project_page, methods=["GET"]),
    Route("/projects/new", create_project_action, methods=["POST"]),
    Route("/projects/{name}", project_page, methods=["GET"]),
    Route("/projects/{name}/schedule", save_schedule, methods=["POST"]),
    Route("/projects/{name}/save-as-template", save_as_template, methods=["POST"]),
    Route("/projects/{name}/delete", delete_page, methods=["GET"]),
    Route("/projects/{name}/delete", delete_action, methods=["POST"]),
]
