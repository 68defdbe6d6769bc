"""A PostgreSQL cluster of a test's own (``initdb`` in a temporary folder, a free port on
127.0.0.1), so that the test may stop and start it: the machine's shared server must never be
restarted by a test. PostgreSQL refuses to run as root, so as root the cluster runs as the
``postgres`` user (``runuser``); a machine without the server's programs skips the test."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["OwnCluster", "own_cluster"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class OwnCluster:
    """A running cluster: ``url`` reaches its ``postgres`` database as user ``postgres``."""

    data: Path
    port: int
    run_as: list[str]

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the cluster's ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        subprocess.run(
            [*self.run_as, "pg_ctl", "-D", str(self.data), "-o", options, "-w", "-t", "60", *args],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._pg_ctl("-l", str(self.data / "server.log"), "start")

    def stop(self) -> None:
        """Stop the server at once (``-m fast``: open connections are cut)."""
        self._pg_ctl("-m", "fast", "stop")


def _runner() -> list[str] | None:
    """The prefix that runs the server's programs as a user PostgreSQL accepts (``[]``: this
    one), or ``None`` when none can."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return ["runuser", "-u", "postgres", "--"]


@contextmanager
def own_cluster() -> Iterator[OwnCluster]:
    """A new cluster in a new folder under the system's temporary folder (pytest's are closed
    to other users), started; stopped and removed afterwards. Skips when ``initdb`` is not
    here or cannot run."""
    run_as = _runner()
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None or run_as is None:
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed here (or no user runs them)")
    directory = Path(tempfile.mkdtemp(prefix="integrator-pg-"))
    try:
        if run_as:
            shutil.chown(directory, "postgres")
        with _started(directory, run_as) as cluster:
            yield cluster
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def _started(directory: Path, run_as: list[str]) -> Iterator[OwnCluster]:
    made = subprocess.run(
        [*run_as, "initdb", "-D", str(directory), "-U", "postgres", "-A", "trust"],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"initdb could not make a cluster here: {made.stderr.strip()[-300:]}")
    cluster = OwnCluster(directory, _free_port(), run_as)
    cluster.start()
    try:
        yield cluster
    finally:
        with suppress(subprocess.CalledProcessError):
            cluster.stop()
