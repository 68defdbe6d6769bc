"""Every route that changes something refuses a request that does not prove it comes from the
portal's own page. The routes are read from the application itself, so a route added later is
covered without touching this file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import BaseRoute, Mount, Route

from tests.portal.client import PortalClient, portal_client

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
#: a path under /api/ no route serves: the guard answers before routing does, so it shows the
#: rules even while the API has no unsafe route of its own
API_PROBE = "/api/projects/x/run"


def _routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    for route in routes:
        if isinstance(route, Route):
            yield prefix + route.path, route
        elif isinstance(route, Mount) and route.routes:
            yield from _routes(list(route.routes), prefix + route.path)


def _filled(path: str) -> str:
    """``path`` with each parameter given a value its convertor accepts."""
    samples = {"int": "0", "float": "0", "uuid": "00000000-0000-0000-0000-000000000000"}

    def value(found: re.Match[str]) -> str:
        return samples.get(found.group(2) or "str", "x")

    return re.sub(r"\{(\w+)(?::(\w+))?\}", value, path)


def unsafe_routes(client: PortalClient) -> list[tuple[str, str]]:
    """``(method, path)`` of every route of the portal that changes something, its parameters
    filled in."""
    found = []
    for path, route in _routes(list(client.app.routes)):  # type: ignore[attr-defined]
        for method in sorted(set(route.methods or ()) & set(UNSAFE)):
            found.append((method, _filled(path)))
    return found


@pytest.fixture
def anonymous(workspace: Path) -> Iterator[PortalClient]:
    """A portal under ``--no-auth``: no sign-in, CSRF still checked."""
    with portal_client(workspace, no_auth=True) as client:
        yield client
    client.context.close()


def test_the_enumeration_sees_the_sign_in_forms(portal: PortalClient) -> None:
    routes = unsafe_routes(portal)
    assert ("POST", "/signin") in routes
    assert ("POST", "/signout") in routes


def test_every_unsafe_route_refuses_a_signed_in_session_without_the_token(
    portal: PortalClient,
) -> None:
    for method, path in unsafe_routes(portal):
        as_form = portal.request(method, path, data={"name": "x"})
        assert as_form.status_code == 403, (method, path, as_form.text)
        as_json = portal.request(method, path, json={"name": "x"})
        assert as_json.status_code == 403, (method, path, as_json.text)
        wrong = portal.request(method, path, data={"csrf_token": "forged", "name": "x"})
        assert wrong.status_code == 403, (method, path, wrong.text)
        wrong_header = portal.request(
            method, path, json={"name": "x"}, headers={"X-CSRF-Token": "forged"}
        )
        assert wrong_header.status_code == 403, (method, path, wrong_header.text)


def test_the_refusal_says_why(portal: PortalClient) -> None:
    page = portal.post("/signout", data={})
    assert page.status_code == 403
    assert "CSRF" in page.text and "reload the page" in page.text
    api = portal.post(API_PROBE, json={})
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "csrf"


def test_the_token_in_the_form_or_the_header_passes(portal: PortalClient) -> None:
    by_field = portal.post(API_PROBE, data={"csrf_token": portal.csrf})
    assert by_field.status_code != 403
    by_header = portal.post(API_PROBE, json={}, headers={"X-CSRF-Token": portal.csrf})
    assert by_header.status_code != 403
    signed_out = portal.post("/signout", data={"csrf_token": portal.csrf}, follow_redirects=False)
    assert signed_out.status_code == 303


def test_without_sign_in_every_form_still_needs_the_token(anonymous: PortalClient) -> None:
    for method, path in unsafe_routes(anonymous):
        response = anonymous.request(method, path, data={"name": "x"})
        assert response.status_code == 403, (method, path, response.text)


def test_without_sign_in_cross_origin_json_is_refused(anonymous: PortalClient) -> None:
    api_paths = [p for m, p in unsafe_routes(anonymous) if p.startswith("/api/")]
    for path in [API_PROBE, *api_paths]:
        evil = anonymous.post(path, json={}, headers={"Origin": "http://evil.example"})
        assert evil.status_code == 403, (path, evil.text)
        assert evil.json()["error"]["code"] == "csrf"
        sandboxed = anonymous.post(path, json={}, headers={"Origin": "null"})
        assert sandboxed.status_code == 403, (path, sandboxed.text)
        # a form can be sent cross-site without a preflight: it needs the token even here
        form = anonymous.post(path, data={"name": "x"})
        assert form.status_code == 403, (path, form.text)
        # a browser sends a cross-site JSON body only after a preflight the portal never
        # grants, so JSON from the portal's own origin (or a script, no Origin) passes
        own = anonymous.post(path, json={}, headers={"Origin": "http://127.0.0.1"})
        assert own.status_code != 403, (path, own.text)
        script = anonymous.post(path, json={})
        assert script.status_code != 403, (path, script.text)


def test_a_cross_origin_preflight_is_never_granted(anonymous: PortalClient) -> None:
    preflight = anonymous.options(
        API_PROBE,
        headers={
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
