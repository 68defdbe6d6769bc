"""Failed records as a person acts on them: grouped by cause, largest group first, each with
its fix when there is a usual one (:mod:`integrator.p2c.hints`), and every record in a table."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from integrator.cli.plain import PlainTable
from integrator.engine.history import RecordError
from integrator.p2c.hints import group_errors

__all__ = ["print_failed_records", "print_failure_causes"]

#: record keys named per cause before "..."
_SAMPLE_KEYS = 3


def _records(count: int) -> str:
    return f"{count} record" if count == 1 else f"{count} records"


def print_failure_causes(
    console: Console,
    errors: Sequence[RecordError],
    *,
    project_file: str | None = None,
    limit: int | None = None,
) -> int:
    """Print ``errors`` grouped by task, leg, field and message, largest group first, each
    with a sample of its keys and its ``Fix:`` line (naming ``project_file`` where a mapping
    row is to change). At most ``limit`` causes; returns how many were left out."""
    groups = group_errors(errors, project_file)
    shown = groups if limit is None else groups[:limit]
    for group in shown:
        sample = ", ".join(group.keys[:_SAMPLE_KEYS])
        more = " ..." if len(group.keys) > _SAMPLE_KEYS else ""
        console.print(
            f"  • {_records(len(group.keys))} ({sample}{more}), {group.task}, {group.leg}, "
            f"{group.field or 'record'}: {group.message}",
            markup=False,
            highlight=False,
        )
        if group.hint:
            console.print(f"    Fix: {group.hint}", markup=False, highlight=False)
    return len(groups) - len(shown)


def print_failed_records(console: Console, errors: Sequence[RecordError]) -> None:
    """Every failed record: task, leg, key, field and message, nothing cut."""
    console.print("Failed records", style="italic")
    table = PlainTable()
    for name in ("Task", "Leg", "Key", "Field", "Message"):
        table.add_column(name, overflow="fold")
    for error in errors:
        table.add_row(error.task, error.leg, error.key, error.field or "", error.message)
    console.print(table)
