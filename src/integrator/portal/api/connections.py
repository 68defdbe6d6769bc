"""``/api/connections``: the connection sets, every secret masked; *Test connection*."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from integrator.portal.connection_sets import (
    connection_set_json,
    find_connection_set,
    try_connection,
)
from integrator.portal.context import PortalContext
from integrator.portal.responses import json_response

__all__ = ["routes"]


async def list_connection_sets(request: Request) -> Response:
    portal: PortalContext = request.app.state.portal
    workspace = portal.workspace()
    return json_response(
        {
            "connection_sets": [
                connection_set_json(name, connection_set)
                for name, connection_set in workspace.connection_sets.items()
            ]
        }
    )


async def show_connection_set(request: Request) -> Response:
    portal: PortalContext = request.app.state.portal
    workspace = portal.workspace()
    name = request.path_params["name"]
    return json_response(connection_set_json(name, find_connection_set(workspace, name)))


async def test_system(request: Request) -> Response:
    portal: PortalContext = request.app.state.portal
    result = await run_in_threadpool(
        try_connection,
        portal.workspace(),
        request.path_params["name"],
        request.path_params["system"],
    )
    return json_response(
        {
            "system": result.system,
            "ok": result.ok,
            "message": result.message,
            "milliseconds": result.milliseconds,
        }
    )


routes: list[BaseRoute] = [
    Route("/api/connections", list_connection_sets, methods=["GET"]),
    Route("/api/connections/{name}", show_connection_set, methods=["GET"]),
    Route("/api/connections/{name}/{system}/test", test_system, methods=["POST"]),
]
