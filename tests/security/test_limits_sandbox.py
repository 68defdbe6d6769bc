"""The sandbox refuses request bodies over its limit with 413 in the OData error shape, from the
``Content-Length`` alone or, for a chunked body, as soon as the bytes read pass the limit. Over
loopback HTTP, with raw sockets where a client library would insist on sending the whole body
first."""

from __future__ import annotations

import json
import select
import socket
from urllib.parse import urlsplit

import httpx

from integrator.sandbox.http.limits import MAX_BODY_BYTES
from integrator.sandbox.testing import SandboxHandle

MIB = 1024 * 1024


def _connect(url: str) -> tuple[socket.socket, str]:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30)
    return sock, parts.path


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str]]:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        rest += piece
    return status, json.loads(rest[:length])


def _request_head(path: str, host: str, extra: str) -> bytes:
    return (
        f"POST {path}contacts HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


def _assert_too_large(status: int, body: dict[str, object]) -> None:
    assert status == 413
    error = body["error"]
    assert isinstance(error, dict)
    assert error["code"] == "RequestEntityTooLarge"
    assert "32 MiB" in str(error["message"])


def test_a_declared_length_over_the_limit_is_413_before_any_body_is_sent(
    sandbox: SandboxHandle,
) -> None:
    sock, path = _connect(sandbox.sales)
    with sock:
        sock.sendall(_request_head(path, "127.0.0.1", f"Content-Length: {100 * MIB}\r\n"))
        status, body = _read_response(sock)  # nothing of the 100 MB body was sent
    _assert_too_large(status, body)
    assert "100 MiB" in str(body["error"])


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(sandbox: SandboxHandle) -> None:
    sock, path = _connect(sandbox.sales)
    chunk = b"x" * MIB
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with sock:
        sock.sendall(_request_head(path, "127.0.0.1", "Transfer-Encoding: chunked\r\n"))
        answered = False
        for _ in range(200):  # 200 MiB if the server read everything
            try:
                sock.sendall(framed)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                answered = True
                break
        assert answered or sent < 200 * MIB
        status, body = _read_response(sock)
    _assert_too_large(status, body)
    assert sent < MAX_BODY_BYTES + 16 * MIB  # refused near the limit, not at the end


def test_bodies_within_the_limit_are_served(sandbox: SandboxHandle) -> None:
    r = httpx.post(sandbox.sales + "contacts", json={"lastname": "x" * 40}, timeout=30)
    assert r.status_code in (201, 204, 400), r.text
    assert r.status_code != 413


def test_finops_refuses_the_same_way(sandbox: SandboxHandle) -> None:
    sock, path = _connect(sandbox.finops)
    with sock:
        sock.sendall(_request_head(path, "127.0.0.1", f"Content-Length: {MAX_BODY_BYTES + 1}\r\n"))
        status, body = _read_response(sock)
    _assert_too_large(status, body)


def test_the_fault_admin_endpoint_takes_small_bodies_only(sandbox: SandboxHandle) -> None:
    r = httpx.put(sandbox.url + "/_sandbox/faults", content=b" " * (128 * 1024), timeout=30)
    assert r.status_code == 413
    assert "64 KiB" in r.json()["error"]["message"]
