"""Workspaces in distributed mode: a history in a fresh PostgreSQL schema of its own (the
job queue's tables with it), dropped after the test."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.connectors.databases import postgres_schema


@pytest.fixture
def pg_history() -> Iterator[str]:
    """The URL of a new schema (``workers_…``) of the local PostgreSQL; skips when absent."""
    with postgres_schema("workers") as url:
        yield url


def open_jobs(engine: sa.Engine) -> int:
    """Jobs of the queue that wait or run."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
            ).scalar_one()
        )


def make_distributed(root: Path, history_url: str, **workers: object) -> None:
    """Write ``integrator.yaml`` of the workspace at ``root`` for distributed mode: history at
    ``history_url``, a queue of its own, and ``workers`` settings (fast beats by default)."""
    settings = {
        "queue_name": f"workers_{uuid.uuid4().hex[:8]}",
        "poll_seconds": 0.5,
        "heartbeat_seconds": 0.5,
        "stalled_after_seconds": 3,
        **workers,
    }
    lines = "".join(f"  {key}: {value}\n" for key, value in settings.items())
    (root / "integrator.yaml").write_text(
        f"version: 1\nhistory:\n  database_url: '{history_url}'\nworkers:\n  queue: true\n{lines}"
    )


#: ``integrator worker`` with the engine's batch (normally 5000 selected records) cut to
#: ``BATCH``, so that a dataset small enough for a quick test commits several batches per
#: task (as tests/resilience/test_cancel.py does for ``integrator run``)
_SMALL_BATCH_WORKER = (
    "import sys\n"
    "import integrator.engine.read as read\n"
    "assert hasattr(read, 'SELECTED_PER_PAGE'), 'the batch size moved; update this test'\n"
    "read.SELECTED_PER_PAGE = int(sys.argv.pop(1))\n"
    "from integrator.cli.main import main\n"
    "main()\n"
)


def start_worker(root: Path, log: Path, batch: int, *extra: str) -> subprocess.Popen[bytes]:
    """``integrator worker --workspace ROOT [EXTRA...]`` in batches of ``batch``, as a process
    of its own, its output going to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                _SMALL_BATCH_WORKER,
                str(batch),
                "worker",
                "--workspace",
                str(root),
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
        )
