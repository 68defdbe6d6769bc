"""``/api/templates``: the shipped templates and the workspace's own; save a project as one."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from integrator.config.workspace import save_project_as_template
from integrator.portal.context import PortalContext
from integrator.portal.project_overview import exact_project
from integrator.portal.responses import api_error, json_response, problem_json
from integrator.templates.loader import TemplateEntry

__all__ = ["routes", "template_json"]


def template_json(entry: TemplateEntry) -> dict[str, Any]:
    """``{"name", "description", "shipped", "author", "file", "tasks", "required_prior",
    "problems"}``: shipped templates are Microsoft's (the P2C templates), the others the
    workspace's own."""
    template = entry.template
    return {
        "name": entry.name,
        "description": template.description if template else None,
        "shipped": entry.shipped,
        "author": "Microsoft (shipped)" if entry.shipped else "This workspace",
        "file": entry.file,
        "tasks": [task.name for task in template.tasks] if template else [],
        "required_prior": list(template.required_prior) if template else [],
        "problems": [problem_json(p) for p in entry.problems],
    }


async def list_templates(request: Request) -> Response:
    portal: PortalContext = request.app.state.portal
    workspace = portal.workspace()
    return json_response({"templates": [template_json(e) for e in workspace.templates]})


async def save_template(request: Request) -> Response:
    portal: PortalContext = request.app.state.portal
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not body.get("project") or not body.get("name"):
        return api_error(400, "bad-request", 'send {"project", "name"} as JSON')
    workspace = portal.workspace()
    project = exact_project(workspace, str(body["project"]))
    path = await run_in_threadpool(save_project_as_template, workspace, project, str(body["name"]))
    return json_response(
        {
            "template": str(body["name"]).strip(),
            "file": str(path.relative_to(workspace.root)),
            "project": project,
        },
        status_code=201,
    )


routes: list[BaseRoute] = [
    Route("/api/templates", list_templates, methods=["GET"]),
    Route("/api/templates", save_template, methods=["POST"]),
]
