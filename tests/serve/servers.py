"""``integrator serve`` as a user starts it: a separate process on a free port, its output
kept in a file the test reads."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

_URL = re.compile(r"status at (http://\S+)/api/status")


class ServeProcess:
    """A running ``integrator serve``."""

    def __init__(self, process: subprocess.Popen[str], log: Path) -> None:
        self.process = process
        self.log = log
        self.url = ""

    def output(self) -> str:
        """What it printed so far (stdout and stderr)."""
        return self.log.read_text(errors="replace")

    def get(self, path: str) -> Any:
        """``GET path`` on the server, as JSON."""
        return httpx.get(self.url + path, timeout=10).json()

    def wait(self, timeout: float) -> str:
        """Wait for the process to end; returns its output."""
        self.process.wait(timeout=timeout)
        return self.output()

    def kill(self) -> None:
        """End it, if it still runs."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def start_serve(
    workspace: Path, *args: str, timeout: float = 60, no_auth: bool = True
) -> ServeProcess:
    """Start ``integrator serve --workspace WORKSPACE --port 0 [--no-auth] ARGS`` and wait
    until it says where it listens. Its output goes to a file beside the workspace."""
    handle, name = tempfile.mkstemp(prefix="serve-", suffix=".log", dir=workspace.parent)
    log = Path(name)
    environment = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "integrator.cli.main", "serve"]
    process = subprocess.Popen(
        [
            *command,
            "--workspace",
            str(workspace),
            "--port",
            "0",
            *(["--no-auth"] if no_auth else []),
            *args,
        ],
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    os.close(handle)
    server = ServeProcess(process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _URL.search(server.output())
        if found:
            server.url = found.group(1)
            return server
        if process.poll() is not None:
            raise AssertionError(f"integrator serve ended at once:\n{server.output()}")
        time.sleep(0.1)
    server.kill()
    raise AssertionError(f"integrator serve did not start:\n{server.output()}")
