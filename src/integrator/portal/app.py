"""The portal's application: pages, the JSON API, static files, sign-in and CSRF, and one way
of answering each kind of failure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from integrator.config.edit import EditConflict
from integrator.errors import (
    ConfigError,
    IntegratorError,
    NothingToRerun,
    ProjectBusy,
    RunAlreadyWaiting,
    SystemUnavailable,
    UnavailableSystems,
    UsageError,
)
from integrator.portal.context import STATIC_DIR, PortalContext
from integrator.portal.responses import api_error, json_response, page, problems_response
from integrator.portal.security import PortalGuard

__all__ = ["SESSION_COOKIE", "create_portal"]

SESSION_COOKIE = "integrator_session"
#: a session lasts a working day
SESSION_SECONDS = 12 * 3600


def ago(moment: str | datetime | None, now: datetime | None = None) -> str:
    """``moment`` as people read it in a list: "just now", "59 min ago", "3 h ago", "2 d ago"
    (in the future: "in 5 min"); "Never" for ``None``."""
    if moment is None:
        return "Never"
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        text = "just now" if not future else "in under a minute"
        return text
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            amount = int(seconds // size)
            return f"in {amount} {unit}" if future else f"{amount} {unit} ago"
    return "just now"


def path_segment(value: object) -> str:
    """``value`` quoted for one segment of a URL path (project names have spaces, slashes
    never)."""
    return quote(str(value), safe="")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _failure(request: Request, status: int, code: str, message: str, **extra: Any) -> Response:
    if _is_api(request):
        return api_error(status, code, message, **extra)
    return page(
        request, "error.html", {"status": status, "message": message, **extra}, status_code=status
    )


async def _integrator_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, EditConflict):
        return _failure(
            request, 409, "conflict", str(exc), diff=exc.diff, current_version=exc.current_version
        )
    if isinstance(exc, ConfigError):
        if _is_api(request):
            return problems_response(exc.problems)
        return _failure(request, 422, "invalid", str(exc))
    if isinstance(exc, RunAlreadyWaiting):
        return _failure(request, 409, "already-waiting", str(exc), job_id=exc.job_id)
    if isinstance(exc, ProjectBusy):
        return _failure(request, 409, "busy", str(exc))
    if isinstance(exc, NothingToRerun):
        return _failure(request, 409, "nothing-to-rerun", str(exc))
    if isinstance(exc, SystemUnavailable | UnavailableSystems):
        return _failure(request, 503, "system-unavailable", str(exc))
    if isinstance(exc, UsageError):
        return _failure(request, 404, "not-found", str(exc))
    return _failure(request, 500, "internal", str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    return _failure(request, 404, "not-found", f"{request.url.path} is not served here")


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return _failure(request, 405, "method-not-allowed", f"{request.method} is not allowed here")


def create_portal(
    context: PortalContext, status: Callable[[], dict[str, Any]] | None = None
) -> Starlette:
    """The portal on ``context``'s workspace. ``status`` (the server's) answers
    ``GET /api/status`` when given."""
    from integrator.portal.api import ROUTES as API_ROUTES
    from integrator.portal.views import ROUTES as PAGE_ROUTES

    routes: list[BaseRoute] = [*PAGE_ROUTES, *API_ROUTES]
    if status is not None:

        async def get_status(request: Request) -> Response:
            return json_response(status())

        routes.append(Route("/api/status", get_status))
    routes.append(Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"))
    context.credentials.ensure_saved()
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=context.credentials.session_secret,
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_SECONDS,
                same_site="strict",
            ),
            Middleware(PortalGuard),
        ],
        exception_handlers={
            404: _not_found,
            405: _method_not_allowed,
            IntegratorError: _integrator_error,
        },
    )
    app.state.portal = context
    environment = context.templates.env
    environment.filters["ago"] = ago
    environment.filters["segment"] = path_segment
    return app
