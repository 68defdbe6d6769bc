"""``integrator run`` in distributed mode: the runs become jobs on the workspace's queue.

With ``--queue`` the command enqueues and says what; without, it enqueues, waits for the
jobs (and those they defer) to end, and prints the runs as an in-process run does: what a
user typing ``integrator run`` expects, while a project never runs on this machine beside a
worker running it on another.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

from rich.console import Console

from integrator.config.workspace import Workspace
from integrator.distributed.queue import Enqueued, JobQueue
from integrator.engine.history import RunSummary
from integrator.engine.run import Engine

__all__ = ["enqueue_runs", "print_enqueued", "wait_for_runs"]

#: how often the command looks whether the jobs it enqueued have ended
_POLL_SECONDS = 0.5


def enqueue_runs(
    ws: Workspace,
    projects: Sequence[str],
    *,
    all_data: bool,
    retry_failed: bool,
    request: str | None = None,
) -> tuple[list[Enqueued], int]:
    """Check ``projects`` as ``integrator run`` does (configuration, systems' metadata,
    prerequisites), then enqueue their plan; returns what was enqueued and the newest run
    id before (0: none), the runs after it being the jobs'."""
    engine = Engine(ws)
    try:
        engine.validate(projects)
        order = engine.plan(projects)
        newest = max((r.id for r in engine.history.runs(limit=1)), default=0)
    finally:
        engine.close()
    with JobQueue(ws) as queue:
        enqueued = queue.enqueue_plan(
            order, all_data=all_data, retry_failed=retry_failed, request=request
        )
    return enqueued, newest


def print_enqueued(console: Console, enqueued: Sequence[Enqueued]) -> None:
    """Say what was enqueued, one line per job."""
    console.print("Enqueued (integrator worker processes run them):", soft_wrap=True)
    for each in enqueued:
        console.print(f"  {each.describe()}", markup=False, soft_wrap=True)


def wait_for_runs(
    ws: Workspace, request: str, projects: Sequence[str], after: int
) -> list[RunSummary]:
    """Wait until no job of ``request`` waits or runs; the runs of ``projects`` recorded since
    run ``after``, oldest first."""
    with JobQueue(ws) as queue:
        while queue.pending(request):
            time.sleep(_POLL_SECONDS)
    engine = Engine(ws)
    try:
        found = [
            run.id
            for project in projects
            for run in engine.history.runs(project, limit=100)
            if run.id > after
        ]
        return [s for s in (engine.history.run(i) for i in sorted(found)) if s is not None]
    finally:
        engine.close()


def new_request() -> str:
    """A new request tag."""
    return uuid.uuid4().hex
