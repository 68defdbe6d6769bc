"""Real HTTP servers on 127.0.0.1 for the security tests: a proxy in front of the sandbox that
answers chosen requests itself (a hostile or broken service), and a TLS server whose
certificate nobody trusts."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

__all__ = ["Answer", "Proxy", "Rule", "TlsServer", "proxy", "serve", "untrusted_tls_server"]


@dataclass(frozen=True)
class Answer:
    """What the proxy answers itself instead of the sandbox."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


#: ``rule(method, path with query, proxy origin)`` → an :class:`Answer`, or ``None`` to forward
Rule = Callable[[str, str, str], Answer | None]


@dataclass
class Proxy:
    """A running proxy: its origin (``http://127.0.0.1:PORT``) and the requests it saw."""

    origin: str
    upstream: str
    rules: list[Rule] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)
    headers_seen: list[dict[str, str]] = field(default_factory=list)


def _handler(state: Proxy) -> type[BaseHTTPRequestHandler]:
    client = httpx.Client(timeout=30)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.seen.append((self.command, self.path))
            state.headers_seen.append(dict(self.headers.items()))
            for rule in state.rules:
                answer = rule(self.command, self.path, state.origin)
                if answer is not None:
                    return self._answer(answer.status, answer.headers, answer.body)
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() not in ("host", "content-length", "connection")
            }
            upstream = client.request(
                self.command, state.upstream + self.path, headers=headers, content=body
            )
            content = upstream.content.replace(state.upstream.encode(), state.origin.encode())
            kept = {
                k: v.replace(state.upstream, state.origin)
                for k, v in upstream.headers.items()
                if k.lower()
                not in ("content-length", "content-encoding", "transfer-encoding", "connection")
            }
            self._answer(upstream.status_code, kept, content)

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``handler`` on a free port of ``host``; yield ``http://HOST:PORT``."""
    server = ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def proxy(upstream: str, *rules: Rule) -> Iterator[Proxy]:
    """A proxy to ``upstream`` (the sandbox's origin) answering as ``rules`` say."""
    state = Proxy(origin="", upstream=upstream.rstrip("/"), rules=list(rules))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class TlsServer:
    """A running https server: its origin, the CA that signed its certificate, the paths it
    was asked for."""

    origin: str
    ca_certfile: Path
    seen: list[str] = field(default_factory=list)


@contextmanager
def untrusted_tls_server(directory: Path) -> Iterator[TlsServer]:
    """An https server on 127.0.0.1 with a certificate from a throwaway CA nobody trusts
    unless told to. Every request it gets is answered 400 ``{"error": "invalid_request"}``
    (what Azure AD says to a request it cannot use)."""
    from integrator.sandbox.testing import make_tls_files

    files = make_tls_files(directory)
    state = TlsServer("", files.ca_certfile)

    class Ok(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen.append(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            body = b'{"error": "invalid_request", "error_description": "not here"}'
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    server.daemon_threads = True
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(files.certfile), str(files.keyfile))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.origin = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
