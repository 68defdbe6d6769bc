"""How runs and history look on a terminal and in ``--json``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from integrator.cli.failures import print_failed_records, print_failure_causes
from integrator.cli.plain import PlainTable
from integrator.cli.suggest import WorkspaceHints
from integrator.engine.history import RunStatus, RunSummary
from integrator.engine.history.documents import runs_json
from integrator.engine.liveness import last_sign_of_life, looks_dead

__all__ = [
    "PIPE_WIDTH",
    "output_console",
    "print_history",
    "print_run_detail",
    "print_runs",
    "run_status_text",
    "runs_json",
    "status_text",
]

#: the width when the output is not a terminal: wide enough that no value is cut or wrapped
PIPE_WIDTH = 100_000

_STYLE = {
    RunStatus.COMPLETED: "green",
    RunStatus.WARNING: "yellow",
    RunStatus.ERROR: "red",
    RunStatus.INTERRUPTED: "magenta",
    RunStatus.RUNNING: "cyan",
    RunStatus.CANCELLED: "magenta",
    RunStatus.SKIPPED: "dim",
}


def output_console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr): the terminal's width on a terminal; when piped or
    redirected, never a truncated or wrapped value (``history | cat`` shows every column).
    Strings it prints are never read as markup: styles are given as :class:`Text` spans."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(
        stderr=stderr,
        highlight=False,
        markup=False,
        width=None if stream.isatty() else PIPE_WIDTH,
    )


def status_text(status: RunStatus) -> Text:
    """The status, coloured as Data Integrator's dashboard colours it."""
    return Text(str(status), style=_STYLE.get(status, ""))


def run_status_text(run: RunSummary) -> Text:
    """The run's status; a Running run whose heartbeat stopped says since when (its process
    may have died: the next run of the project, or ``integrator serve``, records it)."""
    if looks_dead(run):
        since = _time(last_sign_of_life(run))
        return Text(f"Running (no heartbeat since {since})", style="yellow")
    return status_text(run.status)


def _time(moment: str) -> str:
    """An ISO-8601 UTC timestamp as ``YYYY-MM-DD HH:MM:SS``."""
    return moment.replace("T", " ")[:19]


def _counts_table() -> PlainTable:
    # headings are printed as lines of their own: a table's title is padded to its width
    table = PlainTable(show_lines=False)
    table.add_column("Run", justify="right")
    table.add_column("Project")
    table.add_column("Task")
    table.add_column("Status")
    for name in ("Read", "Inserted", "Updated", "Unchanged", "Errors"):
        table.add_column(name, justify="right")
    return table


def _add_run(table: PlainTable, run: RunSummary) -> None:
    for index, task in enumerate(run.tasks or []):
        counts = task.counts
        table.add_row(
            str(run.id) if index == 0 else "",
            run.project if index == 0 else "",
            task.name,
            status_text(task.status),
            str(counts.read),
            str(counts.inserted),
            str(counts.updated),
            str(counts.unchanged),
            str(counts.errors),
        )
    if not run.tasks:
        table.add_row(str(run.id), run.project, "", status_text(run.status), *[""] * 5)


def print_runs(
    console: Console,
    summaries: Sequence[RunSummary],
    *,
    max_causes: int | None = 5,
    hints: WorkspaceHints | None = None,
) -> None:
    """A table of the runs just made, then each run's status and its failed records grouped by
    cause with their fix (at most ``max_causes`` causes a run; ``0``: only how many failed),
    and the command listing every failed record."""
    hints = hints or WorkspaceHints()
    table = _counts_table()
    for run in summaries:
        _add_run(table, run)
    console.print(table)
    for run in summaries:
        line = Text.assemble(f"Run {run.id} ", (run.project, "bold"), ": ", status_text(run.status))
        if run.message:
            line.append(f" ({run.message})")
        console.print(line)
        errors = [e for t in run.tasks for e in t.errors]
        if not errors:
            continue
        left_out = 0
        if max_causes != 0:
            console.print(f"  {_failed(len(errors))}, by cause:")
            left_out = print_failure_causes(
                console, errors, project_file=hints.project_file(run.project), limit=max_causes
            )
        more = f" ({left_out} more causes)" if left_out else ""
        every = hints.command("history", "--run", str(run.id))
        lead = "Every failed record" if max_causes != 0 else _failed(len(errors))
        console.print(f"  {lead}{more}: {every}", markup=False, highlight=False)


def _failed(count: int) -> str:
    return "1 record failed" if count == 1 else f"{count} records failed"


def print_history(console: Console, summaries: Sequence[RunSummary]) -> None:
    """The execution history, newest first, one row per task of each run."""
    console.print("Execution history (newest first)", style="italic")
    table = PlainTable()
    table.add_column("Run", justify="right")
    table.add_column("Project")
    table.add_column("Started (UTC)")
    table.add_column("Started by")
    table.add_column("Status")
    table.add_column("Task")
    for name in ("Read", "Inserted", "Updated", "Unchanged", "Errors"):
        table.add_column(name, justify="right")
    for run in summaries:
        first = (
            str(run.id),
            run.project,
            _time(run.started_at),
            run.trigger,
            run_status_text(run),
        )
        if run.status == RunStatus.SKIPPED or not run.tasks:
            # a skipped slot ran nothing: its reason stands where the tasks would be
            table.add_row(*first, run.message or "", *[""] * 5)
            continue
        for index, task in enumerate(run.tasks):
            counts = task.counts
            table.add_row(
                *(first if index == 0 else ("", "", "", "", Text(""))),
                task.name,
                str(counts.read),
                str(counts.inserted),
                str(counts.updated),
                str(counts.unchanged),
                str(counts.errors),
            )
    console.print(table)


def print_run_detail(
    console: Console, run: RunSummary, *, hints: WorkspaceHints | None = None
) -> None:
    """One run: its tasks' counts, every failed record, then the failures grouped by cause with
    their fix."""
    hints = hints or WorkspaceHints()
    console.print(
        f"Run {run.id} of {run.project} ({run.mode}), started {run.started_at}",
        style="italic",
        markup=False,
    )
    table = _counts_table()
    _add_run(table, run)
    console.print(table)
    line = Text.assemble("Status: ", run_status_text(run))
    if run.message:
        line.append(f" ({run.message})")
    console.print(line)
    _print_record(console, run)
    errors = [e for t in run.tasks for e in t.errors]
    if errors:
        print_failed_records(console, errors)
        console.print(f"{_failed(len(errors))}, by cause:")
        print_failure_causes(console, errors, project_file=hints.project_file(run.project))


_TRIGGERS = {
    "manual": "manual (integrator run)",
    "schedule": "schedule",
    "rerun": "rerun (Re-run execution)",
    "api": "api",
}


def _print_record(console: Console, run: RunSummary) -> None:
    """What operations need of a run: who started it, its slot, why it ended, its heartbeat
    while it runs, and a cancel request."""
    lines = [f"Started by: {_TRIGGERS.get(run.trigger, run.trigger)}"]
    if run.rerun_of is not None:
        lines[0] += f", of run {run.rerun_of}"
    if run.scheduled_for is not None:
        lines.append(f"Scheduled for: {run.scheduled_for}")
    if run.finished_at is not None:
        reason = f" ({run.end_reason})" if run.end_reason else ""
        lines.append(f"Ended: {run.finished_at}{reason}")
    elif run.heartbeat_at is not None:
        lines.append(f"Last heartbeat: {run.heartbeat_at}")
    if run.cancel_requested_at is not None:
        lines.append(f"Cancel requested at: {run.cancel_requested_at}")
    for text in lines:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
