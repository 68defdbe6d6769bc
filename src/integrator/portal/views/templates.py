"""The templates page: the shipped templates and those this workspace saved."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from integrator.portal.api.templates import template_json
from integrator.portal.context import PortalContext
from integrator.portal.responses import page

__all__ = ["routes"]


async def templates_page(request: Request) -> Response:
    portal: PortalContext = request.app.state.portal
    entries = [template_json(e) for e in portal.workspace().templates]
    return page(request, "templates/list.html", {"templates": entries})


routes: list[BaseRoute] = [Route("/templates", templates_page, methods=["GET"])]
