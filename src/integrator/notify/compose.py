"""The notification e-mail of a finished run, as Data Integrator's (SPEC §7): subject, verdict,
a table per task, the failed records grouped by cause with their fix, and how to open the run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from integrator.engine.history import RunStatus, RunSummary
from integrator.p2c.hints import group_errors

__all__ = ["Mail", "compose", "readable_time"]

#: causes listed in a mail before "and N more"
MAX_CAUSES = 10
#: record keys named per cause before "..."
_SAMPLE_KEYS = 3
_COLUMNS = ("Task", "Status", "Read", "Inserted", "Updated", "Unchanged", "Errors")
_VERDICTS = {
    RunStatus.WARNING: "Your project completed with warnings.",
    RunStatus.ERROR: "Your project did not complete due to errors.",
    RunStatus.COMPLETED: "Your project completed.",
    RunStatus.INTERRUPTED: "Your project was interrupted before it completed.",
    RunStatus.CANCELLED: "Your project was cancelled before it completed.",
}


@dataclass(frozen=True)
class Mail:
    """A composed notification: its subject and plain-text body."""

    subject: str
    body: str


def readable_time(moment: str) -> str:
    """An ISO-8601 UTC time as the history stores it, as a person reads it:
    ``2026-12-01 18:30:05 UTC`` (unchanged when it is not such a time)."""
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return moment
    return parsed.strftime("%Y-%m-%d %H:%M:%S UTC")


def compose(
    run: RunSummary,
    workspace_root: Path,
    *,
    project_file: str | None = None,
    run_link: str | None = None,
) -> Mail:
    """The mail for ``run`` of a project in the workspace at ``workspace_root``.

    The fixes name ``project_file`` (relative to the workspace) where a mapping row is to
    change. ``run_link`` (the portal's page of the run, once there is one) comes before the
    command that shows the run. Holds only what the history holds: counts, record keys and
    the systems' messages, never a secret."""
    lines = [
        f"Here is the latest status for your project {run.project} executed at "
        f"{readable_time(run.started_at)}:",
        "",
        _VERDICTS.get(run.status, f"Your project ended {run.status}."),
    ]
    if run.message:
        lines.append(run.message)
    lines += ["", *_task_table(run), ""]
    lines += _causes(run, project_file)
    lines.append("To see the run with every failed record:")
    if run_link:
        lines.append(f"  {run_link}")
    lines.append(f'  integrator history --run {run.id} --workspace "{workspace_root}"')
    return Mail(
        subject=f"Data integration project notification for project {run.project}",
        body="\n".join(lines) + "\n",
    )


def _task_table(run: RunSummary) -> list[str]:
    rows = [
        (
            task.name,
            str(task.status),
            *(
                str(n)
                for n in (
                    task.counts.read,
                    task.counts.inserted,
                    task.counts.updated,
                    task.counts.unchanged,
                    task.counts.errors,
                )
            ),
        )
        for task in run.tasks
    ]
    widths = [max(len(r[i]) for r in [_COLUMNS, *rows]) for i in range(len(_COLUMNS))]

    def line(cells: tuple[str, ...]) -> str:
        # names left, numbers right, as a reader scans them
        pairs = enumerate(zip(cells, widths, strict=True))
        parts = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in pairs]
        return " | ".join(parts).rstrip()

    return [line(_COLUMNS), "-+-".join("-" * w for w in widths), *(line(r) for r in rows)]


def _causes(run: RunSummary, project_file: str | None) -> list[str]:
    errors = [error for task in run.tasks for error in task.errors]
    if not errors:
        return []
    groups = group_errors(errors, project_file)
    lines = ["Failed records, by cause:"]
    for group in groups[:MAX_CAUSES]:
        count = len(group.keys)
        sample = ", ".join(group.keys[:_SAMPLE_KEYS])
        more = " ..." if count > _SAMPLE_KEYS else ""
        records = "1 record" if count == 1 else f"{count} records"
        lines.append(
            f"  * {records} ({sample}{more}), {group.task}, {group.leg}, "
            f"{group.field or 'record'}: {group.message}"
        )
        if group.hint:
            lines.append(f"    Fix: {group.hint}")
    if len(groups) > MAX_CAUSES:
        hidden = len(groups) - MAX_CAUSES
        lines.append(f"  and {hidden} more cause{'s' if hidden != 1 else ''}: see the run.")
    lines.append("")
    return lines
