"""Stopping a run between two batches, and the heartbeat that says it is alive.

:class:`RunControl` runs beside a run: a daemon thread writes ``runs.heartbeat_at`` every few
seconds and reads ``runs.cancel_requested_at`` (which :func:`request_cancel`, from
``integrator cancel`` or the portal, sets in another process). The engine calls
:meth:`RunControl.check` after each committed batch and before each task; it raises
:class:`RunStopped` once a cancel was asked or the engine's stop event is set, so what was
committed stays and the next run goes on from there.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Literal

import sqlalchemy as sa

from integrator.config.workspace import Workspace
from integrator.engine.history import EndReason, HistoryStore, RunStatus, RunSummary, now_iso
from integrator.engine.history.tables import runs
from integrator.errors import RunNotFound

__all__ = [
    "HEARTBEAT_SECONDS",
    "CancelOutcome",
    "RunControl",
    "RunStopped",
    "cancelled_message",
    "request_cancel",
]

log = logging.getLogger(__name__)

#: how often a running run writes its heartbeat
HEARTBEAT_SECONDS = 5.0
#: the longest a cancel request waits to be seen by the run (between two polls)
_POLL_SECONDS = 1.0

#: the process whose stop event a run's :class:`RunControl` watches, unless it is told another
SERVE = "integrator serve"


def stopped_message(process: str) -> str:
    """The message of a run ended because ``process`` (``integrator serve``, ``integrator
    worker``) was stopped with SIGINT or SIGTERM."""
    return (
        f"{process} stopped (SIGINT or SIGTERM) while the run ran; what it committed stays, "
        "the next run goes on from there"
    )


def cancelled_message(requested_at: str) -> str:
    """The message of a run stopped by ``integrator cancel`` asked at ``requested_at``."""
    return (
        f"cancelled by integrator cancel (requested at {requested_at}); what it committed "
        "stays, the next run goes on from there"
    )


class RunStopped(Exception):
    """The run was asked to stop (cancel, or the stop event) and stopped after a committed
    batch: the engine records it with :attr:`status`, :attr:`end_reason` and the message."""

    def __init__(self, status: RunStatus, end_reason: EndReason, message: str) -> None:
        self.status = status
        self.end_reason = end_reason
        super().__init__(message)


class RunControl:
    """Heartbeat and stop requests of run ``run_id``, while the ``with`` block runs.

    A failure to write the heartbeat or read the cancel request (the history briefly locked
    or unreachable) is logged and tried again at the next beat: it never ends the run.
    """

    def __init__(
        self,
        history: HistoryStore,
        run_id: int,
        *,
        stop: threading.Event | None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        stopped_by: str = SERVE,
    ) -> None:
        self.history = history
        self.stopped_by = stopped_by
        self.run_id = run_id
        self.stop = stop
        self.heartbeat_seconds = heartbeat_seconds
        self._ended = threading.Event()
        self._cancel_requested_at: str | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> RunControl:
        """Start the heartbeat thread (its first beat one interval after the run's start,
        which recorded the first heartbeat); returns ``self``."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._beat, name=f"run-{self.run_id}-heartbeat", daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop the heartbeat thread (waiting at most one beat for it)."""
        self._ended.set()
        if self._thread is not None:
            # a beat blocked on a locked history must not hold up the run's end
            self._thread.join(timeout=self.heartbeat_seconds)

    def __enter__(self) -> RunControl:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def check(self) -> None:
        """Raise :class:`RunStopped` when the stop event is set (Interrupted) or a cancel was
        asked (Cancelled); else return at once."""
        if self.stop is not None and self.stop.is_set():
            raise RunStopped(
                RunStatus.INTERRUPTED, EndReason.INTERRUPTED, stopped_message(self.stopped_by)
            )
        requested = self._cancel_requested_at
        if requested is not None:
            raise RunStopped(RunStatus.CANCELLED, EndReason.CANCELLED, cancelled_message(requested))

    def _beat(self) -> None:
        poll = min(self.heartbeat_seconds, _POLL_SECONDS)
        # not at once: the run's start wrote the first heartbeat, and a write as the run
        # starts would only contend with the engine's own first writes
        next_beat = self.heartbeat_seconds
        elapsed = 0.0
        while not self._ended.is_set():
            try:
                if elapsed >= next_beat:
                    self._write_heartbeat()
                    next_beat = elapsed + self.heartbeat_seconds
                self._read_cancel()
            except Exception as error:  # never let the history's hiccup end the run
                log.warning("run %s: heartbeat or cancel poll failed: %s", self.run_id, error)
            if self._ended.wait(poll):
                return
            elapsed += poll

    def _write_heartbeat(self) -> None:
        with self.history.engine.begin() as conn:
            conn.execute(
                runs.update()
                .where(runs.c.id == self.run_id, runs.c.status == RunStatus.RUNNING)
                .values(heartbeat_at=now_iso())
            )

    def _read_cancel(self) -> None:
        with self.history.engine.connect() as conn:
            value = conn.execute(
                sa.select(runs.c.cancel_requested_at).where(runs.c.id == self.run_id)
            ).scalar_one_or_none()
        if value is not None:
            self._cancel_requested_at = str(value)


@dataclass(frozen=True)
class CancelOutcome:
    """What :func:`request_cancel` did: ``requested`` (the run is Running and will stop after
    its current batch; :attr:`run` is as it was when asked), ``ended`` (it had already ended,
    with :attr:`run`'s status) or ``dead`` (its process was gone: recorded Interrupted now)."""

    state: Literal["requested", "ended", "dead"]
    run: RunSummary


def request_cancel(
    history: HistoryStore,
    run_id: int,
    *,
    workspace: Workspace | None = None,
    now: datetime | None = None,
) -> CancelOutcome:
    """Ask run ``run_id`` to stop between two batches (records ``cancel_requested_at``; a
    second request keeps the first time).

    With ``workspace``, a Running run whose process is gone (its heartbeat is stale and its
    project's lock is free) is recorded Interrupted at once instead. Raises
    :class:`~integrator.errors.RunNotFound` when there is no such run.
    """
    from integrator.engine.liveness import recognise_dead_run

    summary = history.run(run_id)
    if summary is None:
        raise RunNotFound(run_id)
    if summary.status != RunStatus.RUNNING:
        return CancelOutcome("ended", summary)
    if workspace is not None and recognise_dead_run(history, workspace, summary, now=now):
        dead = history.run(run_id)
        assert dead is not None
        return CancelOutcome("dead", dead)
    with history.engine.begin() as conn:
        conn.execute(
            runs.update()
            .where(runs.c.id == run_id, runs.c.cancel_requested_at.is_(None))
            .values(cancel_requested_at=now_iso())
        )
    asked = history.run(run_id)
    assert asked is not None
    if asked.status != RunStatus.RUNNING:  # it ended while we asked
        return CancelOutcome("ended", asked)
    return CancelOutcome("requested", asked)
