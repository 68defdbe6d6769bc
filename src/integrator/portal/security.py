"""Sign-in and cross-site request protection for every request of the portal.

- A request is signed in by a bearer token (``Authorization: Bearer itk_…``, for scripts) or
  by the signed session cookie the sign-in page sets. Under ``--no-auth`` (loopback only)
  everyone is.
- A page request that is not signed in is sent to ``/signin``; an API request gets 401 in the
  API's error shape.
- Every request that changes something (POST, PUT, PATCH, DELETE) must prove it comes from the
  portal's own pages: the session's CSRF token in the ``X-CSRF-Token`` header (htmx sends it)
  or the ``csrf_token`` form field. A bearer token proves it by itself (a browser never sends
  one on its own). Under ``--no-auth`` an API request with a JSON body from no other origin
  passes too: a browser sends such a request cross-site only after a CORS preflight, which the
  portal never grants.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrator.portal.responses import api_error

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "PortalGuard", "csrf_token", "signed_in"]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: reachable without signing in
_PUBLIC = ("/signin", "/static/")


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use); pages put it in every form."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def signed_in(request: Request) -> bool:
    """Whether the request is signed in (or the portal runs without sign-in)."""
    return bool(request.scope.get("portal.signed_in"))


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body read here once more, then the client's own messages
    (the endpoint reads the body after the CSRF check did)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class PortalGuard:
    """ASGI middleware (inside the session middleware) that signs requests in and checks
    CSRF; see the module's docstring for the rules."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        context = request.app.state.portal
        path = request.url.path
        is_api = path.startswith("/api/")
        token = _bearer(request)
        by_token = token is not None and context.credentials.verify_token(token)
        if token is not None and not by_token:
            await api_error(401, "bad-token", "the bearer token is not one of this portal's")(
                scope, receive, send
            )
            return
        session = request.session if "session" in scope else {}
        # a session made before the password last changed is over
        session_user = (
            session.get("user")
            if session.get("key") == context.credentials.session_key_id
            else None
        )
        scope["portal.signed_in"] = bool(context.no_auth or by_token or session_user)
        scope["portal.by_token"] = by_token
        if not scope["portal.signed_in"] and not path.startswith(_PUBLIC):
            await self._refuse(request, is_api)(scope, receive, send)
            return
        if request.method in _UNSAFE and not by_token:
            body = await request.body()
            if not await self._csrf_ok(request, context.no_auth and is_api):
                await self._csrf_refused(is_api)(scope, receive, send)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def _refuse(self, request: Request, is_api: bool) -> Response:
        context = request.app.state.portal
        if is_api:
            if not context.credentials.configured:
                return api_error(
                    401,
                    "sign-in-not-set-up",
                    "no password or token is set for this portal: run `integrator serve "
                    "--set-password` or `integrator serve --new-token` on the workspace",
                )
            return api_error(401, "not-signed-in", "sign in, or send a bearer token")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)

    async def _csrf_ok(self, request: Request, json_allowed: bool) -> bool:
        expected = request.session.get("csrf") if "session" in request.scope else None
        sent = request.headers.get(CSRF_HEADER)
        content_type = request.headers.get("content-type", "")
        if sent is None and content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form: FormData = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if isinstance(expected, str) and sent is not None:
            return hmac.compare_digest(expected, sent)
        return (
            json_allowed and content_type.startswith("application/json") and _same_origin(request)
        )

    def _csrf_refused(self, is_api: bool) -> Response:
        message = (
            "this request did not come from the portal's own page (no valid CSRF token); "
            "reload the page and try again"
        )
        if is_api:
            return api_error(403, "csrf", message)
        return Response(message, status_code=403, media_type="text/plain")
