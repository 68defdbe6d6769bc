"""The execution history: the run log and the record-state store, in one database."""

from integrator.engine.history.clock import now_iso
from integrator.engine.history.errors import (
    HistoryDamaged,
    HistoryError,
    HistoryFull,
    HistoryUnreachable,
)
from integrator.engine.history.models import (
    Counts,
    EndReason,
    FailureKind,
    PageCommit,
    RecordError,
    RecordFailure,
    RecordState,
    RunStatus,
    RunSummary,
    TaskSummary,
    Trigger,
    Truncation,
    status_for,
)
from integrator.engine.history.runlog import RunLog
from integrator.engine.history.states import MappingMark, RecordStateStore, Waiting
from integrator.engine.history.store import HistoryStore

__all__ = [
    "Counts",
    "EndReason",
    "FailureKind",
    "HistoryDamaged",
    "HistoryError",
    "HistoryFull",
    "HistoryStore",
    "HistoryUnreachable",
    "MappingMark",
    "PageCommit",
    "RecordError",
    "RecordFailure",
    "RecordState",
    "RecordStateStore",
    "RunLog",
    "RunStatus",
    "RunSummary",
    "TaskSummary",
    "Trigger",
    "Truncation",
    "Waiting",
    "now_iso",
    "status_for",
]
