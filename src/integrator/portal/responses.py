"""The shapes every handler answers in: the API's JSON (errors as ``{"error": {"code",
"message"}}``, 422 with every problem of an invalid configuration) and the pages' HTML (one
layout, the CSRF token and the navigation filled in)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from integrator.errors import ConfigProblem

__all__ = ["JSON", "api_error", "json_response", "page", "problem_json", "problems_response"]


class JSON(Response):
    """A JSON response encoded with orjson (datetimes as ISO-8601)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def json_response(content: Any, status_code: int = 200) -> JSON:
    """``content`` as the API answers it."""
    return JSON(content, status_code=status_code)


def api_error(status_code: int, code: str, message: str, **extra: Any) -> JSON:
    """``{"error": {"code", "message", **extra}}`` with ``status_code``."""
    return JSON({"error": {"code": code, "message": message, **extra}}, status_code=status_code)


def problem_json(problem: ConfigProblem) -> dict[str, Any]:
    """One problem as the API gives it: ``{"file", "line", "path", "message"}`` (the shape of
    ``integrator run --json``)."""
    return {
        "file": problem.file,
        "line": problem.line,
        "path": problem.path,
        "message": problem.message,
    }


def problems_response(
    problems: Sequence[ConfigProblem], message: str = "the configuration has problems"
) -> JSON:
    """422 with every problem: ``{"error": {"code": "invalid", "message", "problems"}}``."""
    return api_error(
        422,
        "invalid",
        f"{message}: {len(problems)} problem(s); nothing was written",
        problems=[problem_json(p) for p in problems],
    )


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """``template`` rendered in the portal's layout. The template gets ``request``,
    ``csrf_token``, ``signed_in``, ``no_auth``, ``workspace_root`` and ``context``'s keys."""
    from integrator.portal.security import csrf_token, signed_in

    portal = request.app.state.portal
    values = {
        "request": request,
        "csrf_token": csrf_token(request),
        "signed_in": signed_in(request),
        "no_auth": portal.no_auth,
        "workspace_root": str(portal.root),
        **(context or {}),
    }
    response: HTMLResponse = portal.templates.TemplateResponse(
        request, template, values, status_code=status_code, headers=dict(headers or {})
    )
    return response
