"""Running the sandbox: uvicorn over the app, in the foreground (the CLI) or in a background
thread (tests), on a socket bound before start so ``port=0`` gives a free port.

With ``tls_certfile``/``tls_keyfile`` it serves https (Dataverse and F&O only serve https, and
clients such as Microsoft's Dataverse SDK refuse an ``http://`` URL); the certificate is the
caller's (a test makes one with ``trustme``), and clients trust it through their own options.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

import uvicorn

from integrator.sandbox.http import FaultConfig, create_app
from integrator.sandbox.http.app import StoreLike

__all__ = ["SandboxServer"]


class SandboxServer:
    """A sandbox server bound to ``host:port`` (``port=0``: a free one) over ``store``."""

    def __init__(
        self,
        store: StoreLike,
        *,
        host: str = "127.0.0.1",
        port: int = 8700,
        faults: FaultConfig | None = None,
        tls_certfile: str | Path | None = None,
        tls_keyfile: str | Path | None = None,
    ) -> None:
        if (tls_certfile is None) != (tls_keyfile is None):
            raise ValueError("TLS needs both a certificate file and its key file")
        self.tls = tls_certfile is not None
        self.app = create_app(store, faults=faults)
        self.sandbox = self.app.state.sandbox
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # proto=IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections; without it
        # every response waits out the client's delayed ACK (40 ms)
        self._socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        # listening from here on: a client that connects once the URL is printed waits in the
        # backlog until uvicorn accepts, instead of being refused while the app starts
        self._socket.listen(2048)
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
            ssl_certfile=str(tls_certfile) if tls_certfile is not None else None,
            ssl_keyfile=str(tls_keyfile) if tls_keyfile is not None else None,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The root URL, ``http://127.0.0.1:8700`` (``https://`` when serving TLS)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}"

    def run(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C / SIGTERM stop it cleanly)."""
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()

    def start(self) -> None:
        """Serve in a background thread; returns once the server accepts connections."""
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[self._socket])),
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the sandbox server failed to start")
            threading.Event().wait(0.01)

    def stop(self) -> None:
        """Stop a server started with :meth:`start` and wait for it."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._socket.close()


def data_dir_path(path: str | Path) -> Path:
    """``path`` as a :class:`Path` (kept for callers that pass strings)."""
    return Path(path)
