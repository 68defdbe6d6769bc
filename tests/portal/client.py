"""The portal as a test reaches it in-process: Starlette's TestClient on the same application
``integrator serve`` serves, signed in with a password like a person, or with a token."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from integrator.portal import PortalContext, create_portal
from integrator.portal.auth import PortalCredentials

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a portal page carries."""
    found = _CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


class PortalClient(TestClient):
    """A TestClient on a portal; ``context`` is its :class:`PortalContext`, ``csrf`` the
    session's CSRF token (after :func:`signed_in_client`)."""

    context: PortalContext
    csrf: str = ""

    def form(self, path: str, data: dict[str, str], **kwargs: object) -> object:
        """POST ``data`` as a page's form does (with the CSRF token)."""
        return self.post(path, data={"csrf_token": self.csrf, **data}, **kwargs)  # type: ignore[arg-type]


def portal_client(root: Path, *, no_auth: bool = False) -> PortalClient:
    """A client on a portal for the workspace at ``root`` (its password set to
    :data:`PASSWORD`), not signed in. Close it (or use ``with``) to release the history."""
    credentials = PortalCredentials.load(root)
    if credentials.password_hash is None:
        credentials.set_password(PASSWORD)
    context = PortalContext(root, credentials=credentials, no_auth=no_auth)
    client = PortalClient(create_portal(context), base_url="http://127.0.0.1")
    client.context = context
    return client


def signed_in_client(root: Path) -> PortalClient:
    """A client signed in with the password through the sign-in page, as a person does."""
    client = portal_client(root)
    signin = client.get("/signin")
    token = csrf_of(signin.text)
    response = client.post(
        "/signin",
        data={"csrf_token": token, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    # signing in starts a new session, with a CSRF token of its own: read it from a page
    client.csrf = csrf_of(client.get("/").text)
    assert client.csrf != token
    return client
