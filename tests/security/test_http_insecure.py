"""No bearer token over plain http to another machine: connections.yaml may name an http://
URL only for this machine (127.0.0.0/8, ::1, localhost) unless the connection says
``allow_insecure_http: true``, and the client refuses such a request before the token is
added. Over real HTTP, to a server on this machine's own non-loopback address."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest

from integrator.connectors.configuration import is_loopback
from integrator.connectors.http.auth import Secret, StaticTokenAuth
from integrator.connectors.http.client import ODataClient
from integrator.errors import ConfigError
from tests.security.http_commands import edit_connections, init_workspace, integrator
from tests.security.http_servers import serve

TOKEN = "bearer-t0ken-value"


def _own_address() -> str:
    """This machine's address on its network (not loopback); skips when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
            address: str = probe.getsockname()[0]
        except OSError:
            address = ""
    if not address or is_loopback(address):
        pytest.skip("this machine has no network address besides loopback")
    return address


class _Records(BaseHTTPRequestHandler):
    """Records each request's Authorization header; answers 401."""

    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization"))
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def remote() -> Iterator[str]:
    """``http://ADDRESS:PORT`` of a server on this machine's non-loopback address."""
    _Records.seen = []
    with serve(_Records, host=_own_address()) as origin:
        yield origin


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LocalHost.", True),
        ("192.0.2.2", False),
        ("10.0.0.1", False),
        ("localhost.example.com", False),
        ("crm.dynamics.com", False),
    ],
)
def test_loopback_is_this_machine_only(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def _remote_workspace(root: Path, remote: str) -> Path:
    """A workspace whose systems are at ``remote``, signing in with a token (``init`` itself
    refuses a sandbox URL that is not loopback: the sandbox never listens elsewhere)."""
    host, _, port = remote.removeprefix("http://").partition(":")
    workspace = init_workspace(root, f"http://127.0.0.1:{port}")
    edit_connections(workspace, "127.0.0.1", host)
    edit_connections(workspace, "auth: {type: none}", "auth: {type: token, token: {env: TK}}")
    return workspace


def test_init_refuses_a_sandbox_that_is_not_on_this_machine(tmp_path: Path, remote: str) -> None:
    result = integrator("init", str(tmp_path / "ws"), "--sandbox", remote)

    assert result.returncode == 2
    assert "which is not this machine" in result.stderr


def test_a_non_loopback_http_url_is_refused_by_validation(tmp_path: Path, remote: str) -> None:
    workspace = _remote_workspace(tmp_path / "ws", remote)

    result = integrator("run", "--workspace", str(workspace), env={"TK": TOKEN})

    assert result.returncode == 2, result.stdout + result.stderr
    host = remote.removeprefix("http://").partition(":")[0]
    assert (
        f"is plain http to {host}, which is not this machine: the credentials and the data "
        "would cross the network unencrypted; use https://, or set allow_insecure_http: true "
        "on the connection if that network is trusted"
    ) in result.stderr
    assert _Records.seen == []


def test_allow_insecure_http_lets_the_connection_say_the_network_is_trusted(
    tmp_path: Path, remote: str
) -> None:
    workspace = _remote_workspace(tmp_path / "ws", remote)
    edit_connections(
        workspace,
        "auth: {type: token, token: {env: TK}}",
        "auth: {type: token, token: {env: TK}}\n      allow_insecure_http: true",
    )

    result = integrator("run", "--workspace", str(workspace), env={"TK": TOKEN})

    assert result.returncode == 3, result.stdout + result.stderr  # the server answers 401
    assert "refused the credentials" in result.stderr
    assert f"Bearer {TOKEN}" in _Records.seen
    assert TOKEN not in result.stdout + result.stderr


def test_the_client_refuses_before_the_token_is_added(remote: str) -> None:
    client = ODataClient(f"{remote}/api/", auth=StaticTokenAuth(Secret(TOKEN)))

    with pytest.raises(ConfigError, match="allow_insecure_http") as caught:
        client.get_json("contacts")

    assert caught.value.exit_code == 2 and TOKEN not in str(caught.value)
    assert _Records.seen == []
    assert client.requests_sent == 0


def test_the_client_sends_the_token_when_allowed(remote: str) -> None:
    client = ODataClient(
        f"{remote}/api/", auth=StaticTokenAuth(Secret(TOKEN)), allow_insecure_http=True
    )

    with pytest.raises(Exception, match="refused the credentials"):
        client.get_json("contacts")

    assert _Records.seen == [f"Bearer {TOKEN}"]
