"""Finished jobs leave the queue a week after they ended (a row per run and per partition
would otherwise stay for ever); waiting and recent jobs stay."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import procrastinate
import psycopg

from integrator.config.workspace import init_workspace, load_workspace
from integrator.distributed import JobQueue
from integrator.distributed.queue import queue_conninfo
from integrator.distributed.worker import purge_finished_jobs
from tests.distributed.conftest import make_distributed
from tests.resilience import harness


def _purge(conninfo: str, queue: str) -> None:
    async def purge() -> None:
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
        async with app.open_async():
            await purge_finished_jobs(app.job_manager, queue)

    # in a thread of its own: an earlier test of the session may leave an event loop running
    # in this one, where asyncio.run refuses to start another
    failed: list[BaseException] = []

    def in_thread() -> None:
        try:
            asyncio.run(purge())
        except BaseException as error:
            failed.append(error)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive() and failed == [], failed


def test_jobs_finished_a_week_ago_are_deleted_and_the_others_stay(
    tmp_path: Path, pg_history: str
) -> None:
    root = init_workspace(tmp_path / "ws", "http://127.0.0.1:8700")
    make_distributed(root, pg_history)
    workspace = load_workspace(root)
    with JobQueue(workspace) as queue:
        old, recent, waiting = (
            queue.enqueue_plan([project])[0].job_id
            for project in (harness.ACCOUNTS, harness.CONTACTS, harness.CUSTOMERS)
        )
        name = queue.queue_name
    conninfo = queue_conninfo(workspace)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for job in (old, recent):
            conn.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = %s", (job,))
            conn.execute("UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id = %s", (job,))
        conn.execute(
            "UPDATE procrastinate_events SET at = now() - interval '8 days' WHERE job_id = %s",
            (old,),
        )

    _purge(conninfo, name)

    with psycopg.connect(conninfo, autocommit=True) as conn:
        left = {row[0] for row in conn.execute("SELECT id FROM procrastinate_jobs")}
    assert left == {recent, waiting}
