"""``/api/projects``: list, show, create, delete a project, and set its schedule and
notifications."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from integrator.cli.project_view import project_json
from integrator.config.edit import project_version
from integrator.config.new_project import create_project
from integrator.config.projects_admin import delete_project, set_schedule_and_notify
from integrator.errors import ConfigError
from integrator.portal.context import PortalContext
from integrator.portal.project_overview import exact_project, overview
from integrator.portal.responses import api_error, json_response, problem_json

__all__ = ["routes"]


def _portal(request: Request) -> PortalContext:
    portal: PortalContext = request.app.state.portal
    return portal


async def _body(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def list_projects(request: Request) -> Response:
    portal = _portal(request)
    rows = await run_in_threadpool(overview, portal.workspace(), portal.history)
    return json_response({"projects": [row.json() for row in rows]})


def project_document(portal: PortalContext, name: str, *, validate: bool = True) -> dict[str, Any]:
    """``integrator project show --json``'s document of ``name``, with the file's ``version``
    (hand it back with an edit) and, with ``validate``, its ``problems`` and ``unavailable``."""
    workspace = portal.workspace()
    name = exact_project(workspace, name)
    document = project_json(name, workspace.project_files[name], workspace.project(name))
    document["version"] = project_version(workspace, name)
    project = workspace.project(name)
    document["notify"] = None if project.notify is None else project.notify.model_dump(mode="json")
    if validate:
        validation = portal.validate(name)
        document["problems"] = [problem_json(p) for p in validation.problems]
        document["unavailable"] = validation.unavailable
    return document


async def show_project(request: Request) -> Response:
    portal = _portal(request)
    document = await run_in_threadpool(project_document, portal, request.path_params["name"])
    return json_response(document)


async def new_project(request: Request) -> Response:
    portal = _portal(request)
    body = await _body(request)
    if body is None or not isinstance(body.get("name"), str) or not body.get("template"):
        return api_error(400, "bad-request", 'send {"name", "template", "connection_set"?} as JSON')
    workspace = portal.workspace()
    path = await run_in_threadpool(
        create_project,
        workspace,
        body["name"],
        str(body["template"]),
        str(body.get("connection_set") or "default"),
    )
    return json_response(
        {"project": path.stem, "file": str(path.relative_to(workspace.root))}, status_code=201
    )


async def remove_project(request: Request) -> Response:
    portal = _portal(request)
    workspace = portal.workspace()
    name = exact_project(workspace, request.path_params["name"])
    path = await run_in_threadpool(delete_project, workspace, name)
    return json_response(
        {"deleted": name, "file": str(path.relative_to(workspace.root)), "history_kept": True}
    )


async def put_schedule(request: Request) -> Response:
    portal = _portal(request)
    body = await _body(request)
    if body is None or "schedule" not in body:
        return api_error(
            400, "bad-request", 'send {"schedule": null | {...}, "notify": null | {...}} as JSON'
        )
    workspace = portal.workspace()
    name = exact_project(workspace, request.path_params["name"])
    schedule, notify = body.get("schedule"), body.get("notify")
    for key, value in (("schedule", schedule), ("notify", notify)):
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"{key} must be null or an object")
    await run_in_threadpool(
        set_schedule_and_notify,
        workspace,
        name,
        schedule,
        notify,
        expected_version=body.get("version"),
    )
    saved = await run_in_threadpool(project_document, portal, name, validate=False)
    return json_response(
        {
            "project": name,
            "schedule": saved["schedule"],
            "notify": saved["notify"],
            "version": saved["version"],
        }
    )


routes: list[BaseRoute] = [
    Route("/api/projects", list_projects, methods=["GET"]),
    Route("/api/projects", new_project, methods=["POST"]),
    Route("/api/projects/{name}", show_project, methods=["GET"]),
    Route("/api/projects/{name}", remove_project, methods=["DELETE"]),
    Route("/api/projects/{name}/schedule", put_schedule, methods=["PUT"]),
]
