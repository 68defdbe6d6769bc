"""Notices beside a run's counts: the values Truncate shortened, per task, leg and field.

A run that shortened values keeps its status (statuses count records, and every record was
written); the notice says what was cut so a person can widen the field or shorten the source.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from integrator.engine.history import RunSummary, Truncation

__all__ = ["print_truncations", "truncation_line", "with_truncations"]


def truncation_line(task: str, item: Truncation) -> str:
    """One notice: ``Contacts, CDS → Destination, LastName: 12 values truncated to 25
    characters (longest 50)``."""
    values = "value" if item.count == 1 else "values"
    return (
        f"{task}, {item.leg}, {item.field}: {item.count} {values} truncated to {item.limit} "
        f"characters (longest {item.longest})"
    )


def print_truncations(console: Console, summaries: Sequence[RunSummary]) -> None:
    """Print a Warning-level notice per field whose values a run's Truncate shortened (data
    is printed as plain text, never as markup)."""
    for run in summaries:
        lines = [truncation_line(t.name, item) for t in run.tasks for item in t.truncations]
        if not lines:
            continue
        console.print(Text(f"Truncated in run {run.id} of {run.project}:", style="yellow"))
        for line in lines:
            console.print(Text(f"  ! {line}"))


def with_truncations(document: dict[str, Any], summaries: Sequence[RunSummary]) -> dict[str, Any]:
    """The ``--json`` document with each task's ``truncated`` list (``leg``, ``field``,
    ``limit``, ``count``, ``longest``), in place; runs in the document's order."""
    for run_doc, run in zip(document.get("runs", []), summaries, strict=False):
        for task_doc, task in zip(run_doc.get("tasks", []), run.tasks, strict=False):
            task_doc["truncated"] = [item.as_dict() for item in task.truncations]
    return document
