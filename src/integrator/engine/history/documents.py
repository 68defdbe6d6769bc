"""Runs as the ``--json`` documents of SPEC §5 give them: one shape for the CLI and the
portal's API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from integrator.engine.history.models import RunSummary

__all__ = ["run_document", "runs_json"]


def run_document(run: RunSummary, *, with_errors: bool = True) -> dict[str, Any]:
    """One run: ``{"id", "project", "status", ..., "tasks": [{"name", "status", "counts",
    "errors"}]}`` (``errors`` only ``with_errors``, each ``{"key", "leg", "field",
    "message"}``)."""
    return {
        "id": run.id,
        "project": run.project,
        "status": str(run.status),
        "mode": run.mode,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "message": run.message,
        "rerun_of": run.rerun_of,
        "trigger": run.trigger,
        "scheduled_for": run.scheduled_for,
        "end_reason": run.end_reason,
        "heartbeat_at": run.heartbeat_at,
        "cancel_requested_at": run.cancel_requested_at,
        "tasks": [
            {
                "name": task.name,
                "status": str(task.status),
                "counts": task.counts.as_dict(),
                **({"errors": [e.as_dict() for e in task.errors]} if with_errors else {}),
            }
            for task in run.tasks
        ],
    }


def runs_json(summaries: Sequence[RunSummary], *, with_errors: bool = True) -> dict[str, Any]:
    """The ``--json`` document: ``{"runs": [{"project", "status", "tasks": [...]}]}``."""
    return {"runs": [run_document(run, with_errors=with_errors) for run in summaries]}
