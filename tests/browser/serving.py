"""A portal served as a person serves it: ``integrator serve --set-password`` fed on stdin,
then ``integrator serve`` (sign-in on) in a process of its own. Used by the browser tests,
the security tests over real HTTP and the screenshot script (no Playwright needed here)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.serve.servers import ServeProcess, start_serve

#: the password the browser tests and the screenshots sign in with (10+ characters)
PORTAL_PASSWORD = "correct horse battery"


def integrator_with_input(
    *args: str, stdin: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``integrator ARGS`` with ``stdin`` piped in (not a terminal, as a script runs it)
    and return what it printed and its exit code."""
    environment = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "integrator.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
    )


def set_password(workspace: Path, password: str = PORTAL_PASSWORD) -> None:
    """``integrator serve --set-password --workspace WORKSPACE`` with ``password`` on stdin;
    fails the caller when it does not exit 0."""
    done = integrator_with_input(
        "serve", "--set-password", "--workspace", str(workspace), stdin=password + "\n"
    )
    assert done.returncode == 0, done.stdout + done.stderr


def stop(server: ServeProcess, timeout: float = 60) -> int:
    """Stop ``server`` as Ctrl-C does (SIGINT) and return its exit code (killed when it does
    not end within ``timeout``)."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            server.kill()
    return server.process.returncode


@dataclass(frozen=True)
class ServedPortal:
    """A running portal: its root ``url`` (no trailing slash), the ``password`` that signs in
    and the ``server`` process."""

    url: str
    password: str
    server: ServeProcess


@contextmanager
def served_portal(workspace: Path, password: str = PORTAL_PASSWORD) -> Iterator[ServedPortal]:
    """The portal of ``workspace`` served by ``integrator serve`` (sign-in on, a free loopback
    port) with ``password`` set, for the ``with`` block; stopped with SIGINT afterwards."""
    set_password(workspace, password)
    server = start_serve(workspace, no_auth=False)
    try:
        yield ServedPortal(server.url, password, server)
    finally:
        stop(server)
