"""The JSON API under ``/api/`` (SPEC §8), which the pages use too; errors are
``{"error": {"code", "message"}}``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from integrator.portal.api import connections, jobs, mapping, projects, runs, templates

__all__ = ["ROUTES"]

ROUTES: list[BaseRoute] = [
    *projects.routes,
    *mapping.routes,
    *runs.routes,
    *jobs.routes,
    *connections.routes,
    *templates.routes,
]
