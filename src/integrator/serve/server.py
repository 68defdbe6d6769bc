"""Serving a workspace: the scheduler and the mail loop in threads of their own, uvicorn in
another, and the main thread waiting for SIGINT or SIGTERM.

The signals are the main thread's, not uvicorn's (uvicorn, when it owns them, raises them
again once it has shut down, which would end the process with the signal instead of exit 0):
on either, the server stops taking new runs, each run in progress commits its batch and is
recorded Interrupted, the mail loop sends what is due, and :meth:`WorkspaceServer.serve`
returns.
"""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from integrator.errors import UsageError
from integrator.portal import PortalContext, create_portal
from integrator.portal.auth import PortalCredentials
from integrator.portal.launcher import RunLauncher
from integrator.serve.mail import MailLoop
from integrator.serve.scheduler import Scheduler

__all__ = ["WorkspaceServer", "check_host", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``)."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, *, no_auth: bool, credentials: PortalCredentials) -> None:
    """Refuse to serve on ``host`` when others could reach a portal nobody signs in to:
    ``--no-auth`` binds to a loopback address only, and so does a portal with no password or
    token set yet."""
    if is_loopback(host):
        return
    if no_auth:
        raise UsageError(
            f"--host {host}: --no-auth serves on a loopback address only (127.0.0.1, ::1 "
            "or localhost); set a password (integrator serve --set-password) to serve others"
        )
    if not credentials.configured:
        raise UsageError(
            f"--host {host}: no password or token is set for the portal yet, so it serves on "
            "a loopback address only; set one with `integrator serve --set-password`"
        )


class WorkspaceServer:
    """``integrator serve`` on the workspace at ``root``, bound to ``host:port`` (``port``
    0: a free one)."""

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8780,
        tick_seconds: float = 1.0,
        say: Callable[[str], None] = print,
        no_auth: bool = False,
    ) -> None:
        credentials = PortalCredentials.load(root)
        check_host(host, no_auth=no_auth, credentials=credentials)
        self.stop = threading.Event()
        self.say = say
        self.started_at = datetime.now(UTC)
        self.mail = MailLoop(lambda: self.scheduler.workspace, stop=self.stop, say=say)
        self.scheduler = Scheduler(
            root, stop=self.stop, tick_seconds=tick_seconds, say=say, on_run_end=self.mail.wake
        )
        launcher = RunLauncher(
            lambda: self.portal.workspace(), stop=self.stop, on_run_end=self.mail.wake, say=say
        )
        self.portal = PortalContext(
            root, credentials=credentials, launcher=launcher, stop=self.stop, no_auth=no_auth
        )
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError as error:
            self._socket.close()
            raise UsageError(
                f"cannot listen on {host}:{port}: {error.strerror}; choose another --port"
            ) from None
        self._socket.listen(128)
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            create_portal(self.portal, self.status),
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._web = uvicorn.Server(config)

    @property
    def url(self) -> str:
        """The server's root URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def status(self) -> dict[str, Any]:
        """What ``GET /api/status`` answers: the workspace, each schedule's next and waiting
        slot, the runs in progress here."""
        return {
            "workspace": str(self.scheduler.workspace.root),
            "served_since": self.started_at.isoformat(timespec="seconds"),
            "schedules": [
                {
                    "project": row.project,
                    "next_run_at": _iso(row.next_run_at),
                    "waiting_slot": _iso(row.waiting_slot),
                }
                for row in self.scheduler.schedules
            ],
            "running": [
                {"project": r.project, "scheduled_for": r.slot} for r in self.scheduler.running()
            ]
            + [
                {"project": r.project, "run_id": r.run_id, "scheduled_for": None}
                for r in self.portal.launcher.running()
            ],
            "stopping": self.stop.is_set(),
        }

    def serve(self) -> bool:
        """Serve until SIGINT or SIGTERM (or :meth:`shutdown`), then stop cleanly. Returns
        ``False`` when it stopped because a part of the server (the scheduler, the mail loop,
        the HTTP server) failed; its error is on stderr."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        threads = [
            threading.Thread(target=self.scheduler.run, name="scheduler", daemon=True),
            threading.Thread(target=self.mail.run, name="mail", daemon=True),
            threading.Thread(
                target=lambda: asyncio.run(self._web.serve(sockets=[self._socket])),
                name="http",
                daemon=True,
            ),
        ]
        failed = False
        try:
            for thread in threads:
                thread.start()
            while not self.stop.wait(0.5):
                dead = [t.name for t in threads if not t.is_alive()]
                if dead:
                    self.say(f"integrator serve: its {dead[0]} part failed (above); stopping")
                    failed = True
                    self.stop.set()
        finally:
            self.stop.set()
            self._web.should_exit = True
            for thread in threads:
                thread.join()
            self.portal.launcher.join()
            self._socket.close()
            self.scheduler.close()
            self.portal.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return not failed

    def shutdown(self) -> None:
        """Stop as SIGTERM does (from another thread)."""
        self.stop.set()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if not self.stop.is_set():
            name = signal.Signals(signum).name
            self.say(
                f"integrator serve: {name}: stopping; runs in progress commit their batch "
                "and are recorded Interrupted"
            )
        self.stop.set()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")
