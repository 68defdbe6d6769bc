"""What the execution history holds, as plain typed values."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Counts",
    "EndReason",
    "FailureKind",
    "PageCommit",
    "RecordError",
    "RecordFailure",
    "RecordState",
    "RunStatus",
    "RunSummary",
    "TaskSummary",
    "Trigger",
    "Truncation",
    "status_for",
]

#: why a record failed: ``transient`` (429, 5xx, timeout, lock, connection: every run retries
#: it) or ``data`` (a rule, a missing reference, a mapping error: retried on a change or after
#: a backoff)
FailureKind = Literal["transient", "data"]


class RunStatus(enum.StrEnum):
    """Status of a run or a task, in Data Integrator's words (plus the two a run passes through)."""

    RUNNING = "Running"
    COMPLETED = "Completed"
    WARNING = "Warning"
    ERROR = "Error"
    INTERRUPTED = "Interrupted"
    #: stopped by ``integrator cancel`` (or the portal's Cancel) between two batches
    CANCELLED = "Cancelled"
    #: a scheduled slot that did not run; the run's message says why
    SKIPPED = "Skipped"
    #: a task of a run that stopped (failed or was interrupted) before the task started
    NOT_RUN = "Not run"


#: who or what started a run: a person (``integrator run``), a schedule, Re-run execution, or a
#: program through the API
Trigger = Literal["manual", "schedule", "rerun", "api"]


class EndReason(enum.StrEnum):
    """Why a run ended, beyond its status (kept in the run record for operations)."""

    #: every task ran; the status follows from the counts
    FINISHED = "finished"
    #: a stage of a task failed as a whole (a system, a plan): the run is Error
    STAGE_FAILED = "stage-failed"
    #: SIGINT or SIGTERM (``integrator serve`` stopping, Ctrl-C)
    INTERRUPTED = "interrupted"
    #: ``integrator cancel``
    CANCELLED = "cancelled"
    #: its process stopped without recording an end (killed, machine restarted)
    PROCESS_DIED = "process-died"
    #: a scheduled slot came due while a run of the project ran and another already waited
    SKIPPED_BUSY = "skipped-busy"
    #: scheduled slots that passed while nothing served, folded into the next run
    SKIPPED_MISSED = "skipped-missed"
    #: a scheduled run that could not start: its configuration has problems, a system could
    #: not be reached, or a prerequisite never completed (the message says which)
    NOT_STARTED = "not-started"
    #: the history could not record more (disk full)
    HISTORY_FULL = "history-full"
    #: a bug: the run ended on an unexpected exception
    INTERNAL_ERROR = "internal-error"


@dataclass
class Counts:
    """Records read, and what became of them. ``errors`` counts records, not messages;
    ``still_failing`` counts those of the errors that failed the same way (same leg, field and
    message) the last time they were tried."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0
    still_failing: int = 0

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
        self.still_failing += other.still_failing

    def as_dict(self) -> dict[str, int]:
        """The counts as the CLI's JSON shows them (SPEC §5's five keys)."""
        return {
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
        }


def status_for(counts: Counts) -> RunStatus:
    """Completed when nothing failed; Warning when some succeeded and some failed, or when
    every failure is a record still failing the same way as before; else Error."""
    if counts.errors == 0:
        return RunStatus.COMPLETED
    if counts.succeeded > 0 or counts.errors <= counts.still_failing:
        return RunStatus.WARNING
    return RunStatus.ERROR


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
    #: the failure is transient (429, 5xx, timeout, lock, connection), not on the data
    transient: bool = False
    #: the record failed the same way the last time it was tried
    still_failing: bool = False

    @property
    def signature(self) -> tuple[str, str | None, str]:
        """What makes two failures "the same way": the leg, the field and the message."""
        return (self.leg, self.field, self.message)

    def as_dict(self) -> dict[str, Any]:
        """The error as the CLI's JSON shows it."""
        return {"key": self.key, "leg": self.leg, "field": self.field, "message": self.message}


@dataclass
class Truncation:
    """Truncate shortened ``count`` values of ``field`` (in ``leg``) to ``limit`` characters,
    the longest from ``longest``, in records that were written."""

    leg: str
    field: str
    limit: int
    count: int
    longest: int

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "leg": self.leg,
            "field": self.field,
            "limit": self.limit,
            "count": self.count,
            "longest": self.longest,
        }


@dataclass
class TaskSummary:
    """One task of a run."""

    name: str
    status: RunStatus
    counts: Counts
    errors: list[RecordError] = field(default_factory=list)
    #: values Truncate shortened, per leg and field
    truncations: list[Truncation] = field(default_factory=list)


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
    #: who or what started it
    trigger: str = "manual"
    #: the schedule slot it ran for (ISO-8601 UTC), for a scheduled or skipped run
    scheduled_for: str | None = None
    #: why it ended (an :class:`EndReason` value), ``None`` while it runs
    end_reason: str | None = None
    #: when its process last said it was alive (ISO-8601 UTC), while it runs
    heartbeat_at: str | None = None
    #: when ``integrator cancel`` asked it to stop, if it did
    cancel_requested_at: str | None = None

    @property
    def counts(self) -> Counts:
        """The counts of all tasks added up."""
        total = Counts()
        for task in self.tasks:
            total.add(task.counts)
        return total


@dataclass
class RecordFailure:
    """How a record failed the last time it was tried, and when to try it again."""

    kind: FailureKind
    #: ``[leg, field, message]`` of each of its errors, in order
    signature: list[list[str | None]]
    #: the run it first failed in this way
    since_run: int
    #: the run that last tried it
    last_run: int
    #: how many runs in a row it failed this way
    attempts: int = 1
    #: ISO-8601 UTC time after which a data failure is retried (``None``: every run)
    retry_at: str | None = None


@dataclass
class RecordState:
    """What one source record of a task became: the key it was written under in each leg
    (``None`` for a leg it never reached) and whether it is pending (failed, or written ahead
    of an unfinished commit), with how it failed."""

    source_id: str
    record_key: str
    #: per leg, every key the record may have a row under (normally one; more while a move
    #: or a removal is unfinished); states saved before 0.1 hold one key or ``None`` per leg
    leg_keys: list[Any]
    pending: bool = False
    failure: RecordFailure | None = None


@dataclass
class PageCommit:
    """What one page of a task did, committed to the history in one transaction: its counts
    and failed records (run log), its records' changed states, the ids to forget and the
    checkpoint to go on from (record-state store)."""

    run_id: int
    position: int
    project: str
    task: str
    counts: Counts = field(default_factory=Counts)
    errors: list[RecordError] = field(default_factory=list)
    states: list[RecordState] = field(default_factory=list)
    forget: list[str] = field(default_factory=list)
    checkpoint: str | None = None
    truncations: list[Truncation] = field(default_factory=list)
    #: the partition of a partitioned full read the page belongs to: its checkpoint is then
    #: that partition's resume point, not the task's
    partition: int | None = None
    #: the source ids the page saw (read, or reported deleted): marked seen by the task's
    #: partition plan when the page belongs to a partition, else unused
    seen: Sequence[str] = ()
