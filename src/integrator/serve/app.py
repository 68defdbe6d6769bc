"""The HTTP side of ``integrator serve``: for now the JSON status the portal (SPEC §8) will
build on. Requests only read what the scheduler last saw; no run executes in a request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["create_app"]


def create_app(status: Callable[[], dict[str, Any]]) -> Starlette:
    """The application: ``GET /api/status`` answers ``status()``; anything else is a JSON
    404 in the portal's error shape (``{"error": {"code", "message"}}``)."""

    async def get_status(request: Request) -> JSONResponse:
        return JSONResponse(status())

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {
                "error": {
                    "code": "not-found",
                    "message": f"{request.url.path} is not served here (try /api/status)",
                }
            },
            status_code=404,
        )

    return Starlette(
        routes=[Route("/api/status", get_status)],
        exception_handlers={404: not_found},
    )
