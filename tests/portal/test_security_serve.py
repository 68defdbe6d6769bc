"""Sign-in and safety of ``integrator serve`` as a person runs it, in processes of their own
over real HTTP: the password on stdin, tokens, and which addresses it agrees to serve."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx

from tests.browser.serving import (
    PORTAL_PASSWORD,
    integrator_with_input,
    served_portal,
    set_password,
    stop,
)
from tests.commands import integrator
from tests.serve.servers import start_serve

USAGE_ERROR = 2


def _portal_file(workspace: Path) -> Path:
    return workspace / ".integrator" / "portal.json"


def test_set_password_on_stdin_writes_only_a_hash_in_a_private_file(workspace: Path) -> None:
    done = integrator_with_input(
        "serve", "--set-password", "--workspace", str(workspace), stdin=PORTAL_PASSWORD + "\n"
    )
    assert done.returncode == 0, done.stderr
    assert "The portal's password is set" in done.stdout
    portal_file = _portal_file(workspace)
    assert portal_file.stat().st_mode & 0o777 == 0o600
    assert PORTAL_PASSWORD not in portal_file.read_text()
    assert PORTAL_PASSWORD not in done.stdout + done.stderr


def test_a_password_shorter_than_10_characters_is_refused_and_nothing_written(
    workspace: Path,
) -> None:
    portal_file = _portal_file(workspace)
    before = portal_file.read_bytes() if portal_file.exists() else None
    done = integrator_with_input(
        "serve", "--set-password", "--workspace", str(workspace), stdin="short pw\n"
    )
    assert done.returncode == USAGE_ERROR
    assert "at least 10 characters" in done.stderr and "nothing was changed" in done.stderr
    after = portal_file.read_bytes() if portal_file.exists() else None
    assert after == before


def test_a_new_token_works_against_a_running_serve_over_http(workspace: Path) -> None:
    set_password(workspace)
    made = integrator("serve", "--new-token", "--workspace", str(workspace))
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("itk_") and "\n" not in token
    assert token not in _portal_file(workspace).read_text()
    server = start_serve(workspace, no_auth=False)
    try:
        status = httpx.get(
            server.url + "/api/status", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert status.status_code == 200, status.text
        assert status.json()["workspace"] == str(workspace)
        without = httpx.get(server.url + "/api/status", timeout=30)
        assert without.status_code == 401
        assert without.json()["error"]["code"] == "not-signed-in"
        wrong = httpx.get(
            server.url + "/api/status", headers={"Authorization": "Bearer itk_nope"}, timeout=30
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "bad-token"
    finally:
        assert stop(server) == 0, server.output()
    assert token not in server.output() and PORTAL_PASSWORD not in server.output()


def test_a_token_made_while_serve_runs_works_at_once(workspace: Path) -> None:
    with served_portal(workspace) as served:
        made = integrator("serve", "--new-token", "--workspace", str(workspace))
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip()
        status = httpx.get(
            served.url + "/api/status", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert status.status_code == 200, status.text


def _sign_in(client: httpx.Client, password: str) -> httpx.Response:
    page = client.get("/signin")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post(
        "/signin",
        data={"csrf_token": token, "password": password, "next": "/"},
        follow_redirects=False,
    )


def test_signing_in_over_http_sets_a_strict_httponly_cookie(workspace: Path) -> None:
    with served_portal(workspace) as served, httpx.Client(base_url=served.url) as client:
        done = _sign_in(client, served.password)
        assert done.status_code == 303
        cookie = done.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert client.get("/api/status").status_code == 200
        refused = client.post("/signout", data={})
        assert refused.status_code == 403


def test_a_new_password_while_serve_runs_signs_everyone_out(workspace: Path) -> None:
    new_password = "a brand new passphrase"
    with served_portal(workspace) as served, httpx.Client(base_url=served.url) as client:
        assert _sign_in(client, served.password).status_code == 303
        assert client.get("/api/status").status_code == 200
        set_password(workspace, new_password)
        assert client.get("/api/status").status_code == 401
        with httpx.Client(base_url=served.url) as other:
            assert _sign_in(other, served.password).status_code == 401
            assert _sign_in(other, new_password).status_code == 303
            assert other.get("/api/status").status_code == 200


def test_serving_beyond_loopback_without_sign_in_is_refused(workspace: Path) -> None:
    done = integrator("serve", "--workspace", str(workspace), "--host", "0.0.0.0", "--no-auth")
    assert done.returncode == USAGE_ERROR
    assert "loopback address only" in done.stderr
    assert not _portal_file(workspace).exists() or "password_hash" in json.loads(
        _portal_file(workspace).read_text()
    )


def test_serving_beyond_loopback_without_a_password_is_refused(workspace: Path) -> None:
    assert not _portal_file(workspace).exists()
    done = integrator("serve", "--workspace", str(workspace), "--host", "0.0.0.0", "--port", "0")
    assert done.returncode == USAGE_ERROR
    assert "no password or token is set" in done.stderr


def test_serving_beyond_loopback_with_a_password_binds(workspace: Path) -> None:
    set_password(workspace)
    server = start_serve(workspace, "--host", "0.0.0.0", no_auth=False)
    try:
        assert "over plain HTTP" in server.output()
        local = server.url.replace("0.0.0.0", "127.0.0.1")
        assert httpx.get(local + "/api/status", timeout=30).status_code == 401
    finally:
        server.process.send_signal(signal.SIGINT)
        assert server.wait(timeout=60).rstrip().endswith("integrator serve: stopped")
    assert server.process.returncode == 0
