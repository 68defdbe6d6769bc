"""The execution history store."""

from integrator.engine.history.models import (
    Counts,
    RecordError,
    RecordState,
    RunStatus,
    RunSummary,
    TaskSummary,
    status_for,
)
from integrator.engine.history.store import HistoryStore, now_iso

__all__ = [
    "Counts",
    "HistoryStore",
    "RecordError",
    "RecordState",
    "RunStatus",
    "RunSummary",
    "TaskSummary",
    "now_iso",
    "status_for",
]
