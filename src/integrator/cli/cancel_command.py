"""``integrator cancel RUN``: stop a running run between two batches, from another process."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from integrator.cli.app import app
from integrator.cli.errors import with_exit_codes
from integrator.cli.options import WorkspaceOption
from integrator.cli.render import output_console, print_runs, status_text
from integrator.cli.suggest import WorkspaceHints
from integrator.config.workspace import Workspace, load_workspace
from integrator.distributed.queue import JobQueue
from integrator.engine.connections import history_url
from integrator.engine.control import request_cancel
from integrator.engine.history import HistoryStore, RunStatus, RunSummary
from integrator.engine.liveness import looks_dead, recognise_dead_run
from integrator.errors import UsageError

__all__ = ["cancel"]

#: how often the command looks whether the run has stopped
_POLL_SECONDS = 0.2


@app.command("cancel")
@with_exit_codes()
def cancel(
    run_id: Annotated[int, typer.Argument(help="The running run to stop, by number.")],
    workspace: WorkspaceOption = None,
    job: Annotated[
        bool,
        typer.Option(
            "--job",
            help="Distributed mode: the number is a queued job's (as integrator run --queue "
            "prints it); cancel it before it starts.",
        ),
    ] = False,
    wait: Annotated[
        float,
        typer.Option(
            "--wait",
            min=0,
            help="Seconds to wait for the run to be recorded Cancelled (0: return at once).",
        ),
    ] = 60.0,
) -> None:
    """Stop a running run after its current batch commits: what it committed stays, it is
    recorded Cancelled, and the next run goes on from there.

    A run that has already ended is left as it is (exit code 0). A run whose process is gone
    (no heartbeat for 30 s and its project not locked) is recorded Interrupted at once.

    RUN is a run's number, as `integrator history` lists them. With --job it is a job's
    number in the queue (distributed mode): a job that has not started is cancelled and
    never runs (nor the projects it would have enqueued after it).

    Example: integrator cancel 2 --workspace ./p2c
    """
    console = output_console()
    ws = load_workspace(workspace, strict=False)
    hints = WorkspaceHints.of(workspace, ws)
    if job:
        _cancel_job(console, ws, run_id, hints)
        return
    store = HistoryStore.open(history_url(ws))
    try:
        outcome = request_cancel(store, run_id, workspace=ws)
        run = outcome.run
        if outcome.state == "ended":
            _print_ended(console, run)
        elif outcome.state == "dead":
            console.print(
                Text.assemble(
                    f"Run {run.id} of {run.project} was no longer running ({run.message}): "
                    "recorded ",
                    status_text(run.status),
                    "; the next run goes on from its last committed batch.",
                )
            )
        elif wait == 0:
            console.print(
                f"Asked run {run.id} of {run.project} to stop: it stops after its current batch "
                f"commits and is recorded Cancelled. To see when: "
                f"{hints.command('history', '--run', str(run.id))}",
                soft_wrap=True,
            )
        else:
            _wait_for_end(console, store, ws, run, wait, hints)
    finally:
        store.close()


def _cancel_job(console: Console, ws: Workspace, job_id: int, hints: WorkspaceHints) -> None:
    """``integrator cancel JOB --job``: cancel a queued job, or say why not."""
    with JobQueue(ws) as queue:
        outcome = queue.cancel(job_id)
    if outcome.state == "cancelled":
        console.print(
            f"Cancelled job {job_id} ({outcome.project}): it had not started and will not run.",
            soft_wrap=True,
        )
    elif outcome.state == "running":
        which = (
            hints.command("cancel", str(outcome.run_id))
            if outcome.run_id is not None
            else "integrator cancel RUN (see integrator history)"
        )
        console.print(
            f"Job {job_id} ({outcome.project}) is running on a worker; to stop its run: {which}",
            soft_wrap=True,
        )
    elif outcome.state == "ended":
        console.print(f"Job {job_id} ({outcome.project}) has already ended; nothing to cancel.")
    else:
        raise UsageError(f"there is no job {job_id} in the queue")


def _print_ended(console: Console, run: RunSummary) -> None:
    console.print(
        Text.assemble(
            f"Run {run.id} of {run.project} has already ended: ",
            status_text(run.status),
            f" at {run.finished_at}; nothing to cancel.",
        )
    )


def _wait_for_end(
    console: Console,
    store: HistoryStore,
    ws: Workspace,
    run: RunSummary,
    wait: float,
    hints: WorkspaceHints,
) -> None:
    """Wait up to ``wait`` seconds for ``run`` to be recorded ended, and say how it ended."""
    console.print(
        f"Asked run {run.id} of {run.project} to stop after its current batch commits; "
        f"waiting up to {wait:g} s...",
        soft_wrap=True,
    )
    deadline = time.monotonic() + wait
    current = run
    while time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        seen = store.run(run.id)
        if seen is None:  # purged meanwhile: nothing more to say about it
            return
        current = seen
        if current.status == RunStatus.RUNNING and looks_dead(current):
            recognise_dead_run(store, ws, current)
            continue
        if current.status != RunStatus.RUNNING:
            break
    if current.status == RunStatus.RUNNING:
        console.print(
            f"Run {run.id} is still running after {wait:g} s (its current batch has not "
            "committed yet); the request stands and it stops after that batch. To see when: "
            f"{hints.command('history', '--run', str(run.id))}",
            soft_wrap=True,
        )
        return
    if current.status != RunStatus.CANCELLED:
        console.print(
            Text.assemble(
                f"Run {run.id} ended before it could be cancelled: ", status_text(current.status)
            )
        )
    print_runs(console, [current], max_causes=0, hints=hints)
