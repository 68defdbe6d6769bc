"""``integrator serve`` in distributed mode: a due schedule slot becomes one job on the queue
(taken once, however many ticks see it), not a run in a thread of the server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from integrator.config.edit import set_project_key
from integrator.config.workspace import init_workspace, load_workspace
from integrator.serve.scheduler import Scheduler
from tests.distributed.conftest import make_distributed
from tests.resilience.harness import ACCOUNTS


def test_a_due_slot_is_enqueued_once(tmp_path: Path, pg_history: str) -> None:
    root = init_workspace(tmp_path / "ws", "http://127.0.0.1:8700")  # never called here
    make_distributed(root, pg_history)
    every_hour = {"every": 1, "unit": "hours", "starting_at": "2026-01-01T00:00:00+00:00"}
    set_project_key(load_workspace(root), ACCOUNTS, "schedule", every_hour)
    said: list[str] = []
    now = [datetime(2026, 3, 1, 10, 30, tzinfo=UTC)]
    scheduler = Scheduler(root, stop=threading.Event(), say=said.append, clock=lambda: now[0])
    try:
        scheduler.tick()  # first sight: the next slot is 11:00
        now[0] = datetime(2026, 3, 1, 11, 0, 5, tzinfo=UTC)
        scheduler.tick()
        scheduler.tick()
        assert scheduler.running() == []  # nothing runs in this process
    finally:
        scheduler.join()
        scheduler.close()
    engine = sa.create_engine(pg_history.replace("%3D", "="))
    try:
        with engine.connect() as conn:
            jobs = conn.execute(
                sa.text(
                    "SELECT status, args->>'trigger', args->>'scheduled_for', lock"
                    " FROM procrastinate_jobs"
                )
            ).all()
    finally:
        engine.dispose()
    assert len(jobs) == 1, jobs
    status, trigger, slot, lock = jobs[0]
    assert (status, trigger, lock) == ("todo", "schedule", f"project:{ACCOUNTS}")
    assert slot is not None and slot.startswith("2026-03-01T11:00")
    assert any(f"enqueued {ACCOUNTS}: job 1" in line for line in said), said
