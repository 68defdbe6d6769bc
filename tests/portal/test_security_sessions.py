"""What signs a request in, and what does not: the signed session cookie (tampered with,
forged with another key, or made for nobody), bearer tokens, and the credentials file."""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from collections.abc import Mapping
from pathlib import Path

import itsdangerous

from tests.portal.client import PASSWORD, PortalClient, portal_client, signed_in_client

COOKIE = "integrator_session"


def _signed_in(client: PortalClient) -> bool:
    """Whether the client's cookies sign it in (asked of the API and of a page)."""
    api: bool = client.get("/api/projects").status_code != 401
    page = client.get("/projects", follow_redirects=False)
    on_page = not (page.status_code == 303 and page.headers["location"].startswith("/signin"))
    assert api == on_page, "the API and the pages disagree on who is signed in"
    return api


def _cookie_for(secret: str, session: Mapping[str, object]) -> str:
    """A session cookie as the portal would sign it with ``secret``."""
    data = b64encode(json.dumps(session).encode())
    return itsdangerous.TimestampSigner(secret).sign(data).decode()


def test_a_tampered_session_cookie_signs_nobody_in(workspace: Path) -> None:
    with signed_in_client(workspace) as client:
        good = client.cookies[COOKIE]
        assert _signed_in(client)
        for tampered in (good[:-2] + ("AA" if not good.endswith("AA") else "BB"), good + "x"):
            client.cookies.set(COOKIE, tampered)
            assert not _signed_in(client), tampered
        # the payload changed, the signature kept: refused as well
        signature = good.partition(".")[2]
        other = b64encode(json.dumps({"user": "admin", "csrf": "x"}).encode()).decode()
        client.cookies.set(COOKIE, other + "." + signature)
        assert not _signed_in(client)
    client.context.close()


def test_a_cookie_signed_with_another_key_signs_nobody_in(workspace: Path) -> None:
    with portal_client(workspace) as client:
        client.cookies.set(COOKIE, _cookie_for("not the portal's key", {"user": "admin"}))
        assert not _signed_in(client)
        # the portal's own key does: the test forges what a stolen key would allow
        credentials = client.context.credentials
        forged = {"user": "admin", "key": credentials.session_key_id}
        client.cookies.set(COOKIE, _cookie_for(credentials.session_secret, forged))
        assert _signed_in(client)
        # ... until the password changes: every session made before is over
        credentials.set_password("another good password")
        assert not _signed_in(client)
    client.context.close()


def test_a_session_without_a_user_is_not_signed_in(workspace: Path) -> None:
    with portal_client(workspace) as client:
        client.get("/signin")  # a session with a CSRF token only
        assert COOKIE in client.cookies
        assert not _signed_in(client)
    client.context.close()


def test_the_session_cookie_holds_no_secret(workspace: Path) -> None:
    with signed_in_client(workspace) as client:
        payload = client.cookies[COOKIE].split(".")[0]
        session = json.loads(b64decode(payload + "=" * (-len(payload) % 4)))
        assert set(session) == {"user", "csrf", "key"}
        assert client.context.credentials.session_secret not in json.dumps(session)
        assert PASSWORD not in json.dumps(session)
        assert str(client.context.credentials.password_hash) not in json.dumps(session)
    client.context.close()


def test_signing_out_ends_the_session(workspace: Path) -> None:
    with signed_in_client(workspace) as client:
        done = client.form("/signout", {}, follow_redirects=False)
        assert done.status_code == 303  # type: ignore[attr-defined]
        assert not _signed_in(client)
    client.context.close()


def test_bearer_tokens(workspace: Path) -> None:
    with portal_client(workspace) as client:
        token = client.context.credentials.new_token()
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/projects", headers=bearer).status_code != 401
        # a token proves the request is a script's, not a page's: no CSRF token needed
        assert client.post("/api/projects/x/run", json={}, headers=bearer).status_code != 403
        for wrong in ("itk_wrong", token + "x", token.upper()):
            refused = client.get("/api/projects", headers={"Authorization": f"Bearer {wrong}"})
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "bad-token"
        # the scheme is not a token: Basic with the token does nothing
        basic = client.get("/api/projects", headers={"Authorization": f"Basic {token}"})
        assert basic.status_code == 401
        assert basic.json()["error"]["code"] == "not-signed-in"
    client.context.close()


def test_the_credentials_file_is_private_and_holds_no_password_or_token(
    workspace: Path,
) -> None:
    with portal_client(workspace) as client:
        token = client.context.credentials.new_token()
        path = client.context.credentials.path
        assert path == workspace / ".integrator" / "portal.json"
        assert path.stat().st_mode & 0o777 == 0o600
        text = path.read_text()
        assert PASSWORD not in text
        assert token not in text and token[len("itk_") :] not in text
        assert json.loads(text)["password_hash"].startswith("$argon2id$")
    client.context.close()


def test_an_api_request_to_a_portal_with_no_credentials_says_how_to_set_them(
    workspace: Path,
) -> None:
    from integrator.portal import PortalContext, create_portal
    from integrator.portal.auth import PortalCredentials

    context = PortalContext(workspace, credentials=PortalCredentials.load(workspace))
    with PortalClient(create_portal(context), base_url="http://127.0.0.1") as client:
        refused = client.get("/api/projects")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "sign-in-not-set-up"
        assert "--set-password" in refused.json()["error"]["message"]
        page = client.get("/signin")
        assert "No password is set for this portal yet" in page.text
    context.close()
