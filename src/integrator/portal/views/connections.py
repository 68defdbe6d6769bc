"""The connection sets pages: the list, one set (its connections with every secret masked, its
organization mapping and integration keys) and *Test connection*. Editing connection sets is
done in connections.yaml (the portal shows them)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from integrator.portal.connection_sets import (
    ConnectionTest,
    connection_set_json,
    find_connection_set,
    try_connection,
)
from integrator.portal.context import PortalContext
from integrator.portal.responses import page

__all__ = ["routes"]


def _portal(request: Request) -> PortalContext:
    portal: PortalContext = request.app.state.portal
    return portal


async def connection_sets_page(request: Request) -> Response:
    workspace = _portal(request).workspace()
    sets = [connection_set_json(name, s) for name, s in workspace.connection_sets.items()]
    return page(request, "connections/list.html", {"sets": sets})


def _set_page(request: Request, name: str, tests: dict[str, ConnectionTest]) -> Response:
    workspace = _portal(request).workspace()
    found = connection_set_json(name, find_connection_set(workspace, name))
    users = sorted(n for n, p in workspace.projects.items() if p.connection_set == name)
    return page(request, "connections/show.html", {"set": found, "tests": tests, "projects": users})


async def connection_set_page(request: Request) -> Response:
    return _set_page(request, request.path_params["name"], {})


async def test_connection_action(request: Request) -> Response:
    name = request.path_params["name"]
    form = await request.form()
    system = str(form.get("system", ""))
    result = await run_in_threadpool(try_connection, _portal(request).workspace(), name, system)
    if request.headers.get("hx-request"):
        return page(request, "connections/_test_result.html", {"result": result})
    return _set_page(request, name, {system: result})


routes: list[BaseRoute] = [
    Route("/connections", connection_sets_page, methods=["GET"]),
    Route("/connections/{name}", connection_set_page, methods=["GET"]),
    Route("/connections/{name}/test", test_connection_action, methods=["POST"]),
]
