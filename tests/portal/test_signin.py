"""Signing in: the password, the signed session cookie, CSRF on every form, tokens."""

from __future__ import annotations

from pathlib import Path

from tests.portal.client import PASSWORD, PortalClient, csrf_of, portal_client


def test_a_page_asks_to_sign_in_first(workspace: Path) -> None:
    with portal_client(workspace) as client:
        response = client.get("/projects", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/signin?next=%2Fprojects"
        api = client.get("/api/projects")
        assert api.status_code == 401
        assert api.json()["error"]["code"] == "not-signed-in"


def test_a_wrong_password_is_refused_and_the_right_one_signs_in(workspace: Path) -> None:
    with portal_client(workspace) as client:
        token = csrf_of(client.get("/signin").text)
        wrong = client.post("/signin", data={"csrf_token": token, "password": "nope nope nope"})
        assert wrong.status_code == 401
        assert "That password is not right." in wrong.text
        right = client.post(
            "/signin",
            data={"csrf_token": token, "password": PASSWORD, "next": "/runs"},
            follow_redirects=False,
        )
        assert right.status_code == 303
        assert right.headers["location"] == "/runs"
        cookie = right.headers["set-cookie"]
        assert "integrator_session=" in cookie and "httponly" in cookie.lower()
        assert "samesite=strict" in cookie.lower()
        assert PASSWORD not in cookie


def test_a_form_without_the_csrf_token_is_refused(portal: PortalClient) -> None:
    response = portal.post("/signout", data={})
    assert response.status_code == 403
    assert "CSRF" in response.text


def test_sign_in_goes_back_only_to_this_portal(workspace: Path) -> None:
    with portal_client(workspace) as client:
        token = csrf_of(client.get("/signin").text)
        response = client.post(
            "/signin",
            data={"csrf_token": token, "password": PASSWORD, "next": "https://evil.example/"},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"


def test_a_bearer_token_reaches_the_api_without_a_session(workspace: Path) -> None:
    with portal_client(workspace) as client:
        token = client.context.credentials.new_token()
        status = client.get("/api/projects", headers={"Authorization": f"Bearer {token}"})
        assert status.status_code != 401
        bad = client.get("/api/projects", headers={"Authorization": "Bearer itk_wrong"})
        assert bad.status_code == 401
        assert bad.json()["error"]["code"] == "bad-token"
