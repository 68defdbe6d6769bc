"""Signing in and out: the password set with ``integrator serve --set-password``."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from integrator.portal.responses import page
from integrator.portal.security import signed_in

__all__ = ["routes"]

#: a wrong password waits this long before the page answers (slows guessing)
FAILED_SIGN_IN_DELAY = 1.0


def _next(value: object) -> str:
    """Where to go after signing in: a path of this portal only (never another site)."""
    target = str(value or "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


async def signin_page(request: Request) -> Response:
    portal = request.app.state.portal
    if signed_in(request):
        return RedirectResponse(_next(request.query_params.get("next")), status_code=303)
    return page(
        request,
        "signin.html",
        {
            "next": _next(request.query_params.get("next")),
            "configured": portal.credentials.has_password,
            "error": None,
        },
    )


async def signin(request: Request) -> Response:
    portal = request.app.state.portal
    form = await request.form()
    password = form.get("password")
    target = _next(form.get("next"))
    ok = isinstance(password, str) and await run_in_threadpool(
        portal.credentials.verify_password, password
    )
    if not ok:
        await asyncio.sleep(FAILED_SIGN_IN_DELAY)
        return page(
            request,
            "signin.html",
            {
                "next": target,
                "configured": portal.credentials.has_password,
                "error": "That password is not right.",
            },
            status_code=401,
        )
    request.session.clear()  # a new session: nothing from before signing in carries over
    request.session["user"] = "admin"
    request.session["key"] = portal.credentials.session_key_id
    return RedirectResponse(target, status_code=303)


async def signout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)


routes: list[BaseRoute] = [
    Route("/signin", signin_page, methods=["GET"]),
    Route("/signin", signin, methods=["POST"]),
    Route("/signout", signout, methods=["POST"]),
]
