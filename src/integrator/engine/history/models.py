"""What the execution history holds, as plain typed values."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Counts",
    "RecordError",
    "RecordState",
    "RunStatus",
    "RunSummary",
    "TaskSummary",
    "status_for",
]


class RunStatus(enum.StrEnum):
    """Status of a run or a task, in Data Integrator's words (plus the two a run passes through)."""

    RUNNING = "Running"
    COMPLETED = "Completed"
    WARNING = "Warning"
    ERROR = "Error"
    INTERRUPTED = "Interrupted"


@dataclass
class Counts:
    """Records read, and what became of them. ``errors`` counts records, not messages."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0

    @property
    def succeeded(self) -> int:
        """Records upserted or found already up to date."""
        return self.inserted + self.updated + self.unchanged

    def add(self, other: Counts) -> None:
        """Add ``other`` to these counts in place."""
        self.read += other.read
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.errors += other.errors

    def as_dict(self) -> dict[str, int]:
        """The counts as the CLI's JSON shows them."""
        return {
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
        }


def status_for(counts: Counts) -> RunStatus:
    """Completed when nothing failed, Warning when some succeeded and some failed, else Error."""
    if counts.errors == 0:
        return RunStatus.COMPLETED
    return RunStatus.WARNING if counts.succeeded > 0 else RunStatus.ERROR


@dataclass(frozen=True)
class RecordError:
    """A record that failed: which task and leg, its key, the field at fault, the message."""

    task: str
    leg: str
    key: str
    message: str
    field: str | None = None
    #: the source record's key values, so a re-run can read it again
    source_key: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The error as the CLI's JSON shows it."""
        return {"key": self.key, "leg": self.leg, "field": self.field, "message": self.message}


@dataclass
class TaskSummary:
    """One task of a run."""

    name: str
    status: RunStatus
    counts: Counts
    errors: list[RecordError] = field(default_factory=list)


@dataclass
class RunSummary:
    """One run of a project."""

    id: int
    project: str
    status: RunStatus
    mode: str
    started_at: str
    finished_at: str | None
    message: str | None
    rerun_of: int | None
    tasks: list[TaskSummary] = field(default_factory=list)

    @property
    def counts(self) -> Counts:
        """The counts of all tasks added up."""
        total = Counts()
        for task in self.tasks:
            total.add(task.counts)
        return total


@dataclass
class RecordState:
    """What one source record of a task became: the key it was written under in each leg
    (``None`` for a leg it never reached) and whether it failed last time."""

    source_id: str
    record_key: str
    #: per leg, every key the record may have a row under (normally one; more while a move
    #: or a removal is unfinished); states saved before 0.1 hold one key or ``None`` per leg
    leg_keys: list[Any]
    pending: bool = False
