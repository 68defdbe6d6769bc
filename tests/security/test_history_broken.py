"""A broken history database ends each command with a clear message, never a traceback (issue
11.3): a file that is not a database or is truncated (exit 2, the file left where it is), an
unreachable PostgreSQL history (exit 3, fast), and a disk that fills up during a run (exit 1;
the run does not stay Running, and nothing written is lost or doubled by the next run)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from integrator.cli.main import app
from integrator.config.workspace import init_workspace
from integrator.sandbox.testing import SandboxHandle
from tests.commands import integrator
from tests.golden.dataset import check_golden, dump_outputs, load_sales

#: commands that open the history, each of a workspace whose systems are not needed for it
HISTORY_COMMANDS = [("history",), ("history", "--run", "1"), ("history", "--json"), ("rerun", "1")]


@pytest.fixture
def workspace(tmp_path: Path, sandbox: SandboxHandle) -> Path:
    load_sales(sandbox.data_dir)
    root = init_workspace(tmp_path / "ws", sandbox.url)
    return root


def _a_real_history(workspace: Path) -> bytes:
    ran = integrator("run", "Accounts", "--workspace", str(workspace))
    assert ran.returncode == 0, ran.stderr
    return (workspace / "history.db").read_bytes()


@pytest.mark.parametrize("damage", ["random-bytes", "first-4-KB"])
def test_a_damaged_history_file_is_named_and_left_alone(
    workspace: Path, sandbox: SandboxHandle, damage: str
) -> None:
    real = _a_real_history(workspace)
    history = workspace / "history.db"
    content = os.urandom(16384) if damage == "random-bytes" else real[:4096]
    history.write_bytes(content)
    for companion in ("history.db-wal", "history.db-shm"):
        (workspace / companion).unlink(missing_ok=True)
    for command in [("run",), ("run", "Accounts"), *HISTORY_COMMANDS]:
        result = integrator(*command, "--workspace", str(workspace))
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        message = " ".join(result.stderr.split())
        assert f"the history database {history} is not a history database or is damaged" in (
            message
        )
        assert "Move it aside" in message and "integrator never deletes it" in message
        assert history.read_bytes() == content  # never deleted or "repaired" for the user
    # moved aside as told: a new history; what F&O already holds is matched by its keys
    history.rename(workspace / "history.db.damaged")
    again = integrator("run", "--workspace", str(workspace))
    assert again.returncode == 0, again.stderr
    check_golden("rows", dump_outputs(sandbox.data_dir))


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_postgresql_history_is_exit_3_and_fast(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws", "http://127.0.0.1:9")
    port = _free_port()
    settings = root / "integrator.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            "database_url: null",
            f"database_url: postgresql+psycopg://integrator@127.0.0.1:{port}/history",
        ),
        encoding="utf-8",
    )
    for command in HISTORY_COMMANDS:
        started = time.monotonic()
        result = integrator(*command, "--workspace", str(root))
        assert time.monotonic() - started < 30
        assert result.returncode == 3, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert (
            f"the history database at postgresql://127.0.0.1:{port}/history cannot be reached"
            in result.stderr
        ), result.stderr


class FillsUp:
    """The disk holding ``history.db`` fills up once the run has written its first page to
    the destination: from then on SQLite may not grow the file (``PRAGMA max_page_count``, the
    real ``SQLITE_FULL``, "database or disk is full"), on every connection to it."""

    def __init__(self, history: Path) -> None:
        self.history = str(history)
        self.limit: int | None = None
        self.limited: set[int] = set()

    def __call__(self, conn: sa.Connection, cursor: Any, statement: str, *_: Any) -> None:
        if conn.engine.url.database != self.history:
            return
        raw = conn.connection.dbapi_connection
        if self.limit is None and statement.startswith("INSERT INTO record_errors"):
            # the page's destination writes are done; its commit is under way
            (self.limit,) = raw.execute("PRAGMA page_count").fetchone()  # type: ignore[union-attr]
        if self.limit is not None and id(raw) not in self.limited:
            raw.execute(f"PRAGMA max_page_count = {self.limit}")  # type: ignore[union-attr]
            self.limited.add(id(raw))


@pytest.fixture
def fills_up(workspace: Path) -> Iterator[FillsUp]:
    hook = FillsUp(workspace / "history.db")
    sa.event.listen(sa.Engine, "before_cursor_execute", hook)
    yield hook
    sa.event.remove(sa.Engine, "before_cursor_execute", hook)


def test_a_full_disk_ends_the_run_clearly_and_loses_nothing(
    workspace: Path, sandbox: SandboxHandle, fills_up: FillsUp
) -> None:
    result = CliRunner().invoke(app, ["run", "--workspace", str(workspace)])
    assert fills_up.limit is not None
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    said = " ".join(result.output.split())
    assert "the history database is full:" in said and "database or disk is full" in said
    assert "Traceback" not in said

    # space freed (a new process: no page limit): no run is left Running, the next run
    # ends what the full disk stopped
    with sqlite3.connect(workspace / "history.db") as db:
        before = db.execute("SELECT id, status FROM runs ORDER BY id").fetchall()
    assert before and before[-1][1] in ("Error", "Running"), before
    again = integrator("run", "--workspace", str(workspace), "--json")
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(workspace / "history.db") as db:
        statuses = dict(db.execute("SELECT id, status FROM runs"))
    assert "Running" not in statuses.values(), statuses
    assert statuses[before[-1][0]] in ("Error", "Interrupted")
    # every row once, as a run that never met a full disk leaves them
    check_golden("rows", dump_outputs(sandbox.data_dir))
