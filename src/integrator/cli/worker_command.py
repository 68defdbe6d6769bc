"""``integrator worker``: run jobs from the workspace's queue (distributed mode, SPEC §9)."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from integrator.cli.app import app
from integrator.cli.errors import with_exit_codes
from integrator.cli.options import WorkspaceOption
from integrator.config.workspace import load_workspace
from integrator.distributed.worker import QueueWorker

__all__ = ["worker"]


@app.command("worker")
@with_exit_codes()
def worker(
    workspace: WorkspaceOption = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Jobs to run at once.")
    ] = 1,
) -> None:
    """Take runs from the workspace's job queue and run them, until SIGTERM or SIGINT (the
    runs in progress then stop after their current batch and go back in the queue).

    Any number of workers, on any machines that share the workspace's PostgreSQL history,
    run one run of a project at a time between them; a worker whose heartbeat stops has its
    job taken over by another. The workspace must be in distributed mode (workers: in
    integrator.yaml). Each job taken and how it ended is logged on stderr.

    Exit code 0 when stopped, 2 for bad usage or configuration, 3 when the database cannot
    be reached at start.

    Example: integrator worker --workspace ./p2c --concurrency 2
    """
    # warnings of everything, and which job is taken and how it ends: the engine's and the
    # HTTP client's INFO lines (every batch, every request) would drown those, and
    # Procrastinate's own INFO lines repeat ours with every job argument
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("integrator.worker").setLevel(logging.INFO)
    ws = load_workspace(workspace)
    QueueWorker(ws, concurrency=concurrency).run()
