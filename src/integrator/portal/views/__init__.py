"""The portal's pages, one module per page of SPEC §8 (``templates/<module>/`` holds its
HTML; partials begin with ``_``)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from integrator.portal.views import (
    connections,
    dashboard,
    mapping,
    project_jobs,
    projects,
    runs,
    signin,
    templates,
)

__all__ = ["ROUTES"]

ROUTES: list[BaseRoute] = [
    *signin.routes,
    *dashboard.routes,
    *projects.routes,
    *project_jobs.routes,
    *mapping.routes,
    *runs.routes,
    *connections.routes,
    *templates.routes,
]
