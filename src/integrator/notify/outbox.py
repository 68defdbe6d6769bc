"""The outbox: one notification row per run, written in the transaction that records the run's
end (:func:`notification_hook`), then sent and retried from there (:mod:`.sender`)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from integrator.config.models import Notify
from integrator.config.workspace import Workspace
from integrator.engine.history import HistoryStore, RunLog, RunStatus, RunSummary
from integrator.engine.history.clock import iso, now_iso
from integrator.engine.history.runlog import FinishHook
from integrator.engine.history.tables import outbox, runs
from integrator.notify.compose import compose

__all__ = [
    "MAX_ATTEMPTS",
    "MailStatus",
    "mail_status",
    "notification_hook",
    "queue_notification",
]

log = logging.getLogger(__name__)

#: attempts before a mail is given up (``failed``)
MAX_ATTEMPTS = 8
PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True)
class MailStatus:
    """Where a run's notification is: ``pending`` (with its attempts so far, the last error
    and the next attempt), ``sent`` (``sent_at``) or ``failed`` (gave up after
    :data:`MAX_ATTEMPTS`, with the last error)."""

    recipients: tuple[str, ...]
    status: str
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    sent_at: str | None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (``integrator history --run N --json``'s ``mail``)."""
        return {
            "recipients": list(self.recipients),
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "last_error": self.last_error,
            "sent_at": self.sent_at,
        }


def mail_status(history: HistoryStore, run_id: int) -> MailStatus | None:
    """The notification of run ``run_id``, or ``None`` when the run sent none."""
    with history.engine.connect() as conn:
        row = conn.execute(sa.select(outbox).where(outbox.c.run_id == run_id)).mappings().first()
    if row is None:
        return None
    return MailStatus(
        recipients=tuple(json.loads(row["recipients"])),
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        sent_at=row["sent_at"],
    )


def notification_hook(workspace: Workspace) -> FinishHook | None:
    """The :data:`FinishHook` that queues a finished run's notification in the outbox (see
    :func:`queue_notification`), or ``None`` when no project of ``workspace`` has ``notify:``.

    The hook never raises: a notification that cannot be written is logged, and the run's
    result commits without it."""
    notified = {name: p.notify for name, p in workspace.projects.items() if p.notify is not None}
    if not notified:
        return None

    def hook(conn: sa.Connection, run_id: int) -> None:
        try:
            # a savepoint: a failed insert must not take the run's own update down with it
            with conn.begin_nested():
                queue_notification(conn, workspace, run_id, notified)
        except Exception:
            log.exception("the notification of run %s could not be queued", run_id)

    return hook


def queue_notification(
    conn: sa.Connection, workspace: Workspace, run_id: int, notified: dict[str, Notify]
) -> bool:
    """Write run ``run_id``'s notification to the outbox on ``conn`` (status pending, due now)
    when its project is in ``notified`` and the run's status is in the project's ``notify.on``,
    unless the mail would repeat the last one: every failed record already failed the same way
    and the project's last run that ended in Warning or Error ended so too (a stage failure,
    with no failed records, repeats only with the same message). Returns whether a row was
    written."""
    run = RunLog(conn.engine).run_on(conn, run_id)
    if run is None or (notify := notified.get(run.project)) is None:
        return False
    if run.status.value.casefold() not in notify.on:
        return False
    if _repeats_last_mail(conn, run):
        log.info("run %s of %s: same failures as before, no new mail", run_id, run.project)
        return False
    mail = compose(run, workspace.root, project_file=workspace.project_files.get(run.project))
    now = now_iso()
    conn.execute(
        outbox.insert().values(
            run_id=run_id,
            project=run.project,
            recipients=json.dumps(list(notify.emails)),
            subject=mail.subject,
            body=mail.body,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return True


def _repeats_last_mail(conn: sa.Connection, run: RunSummary) -> bool:
    errors = [error for task in run.tasks for error in task.errors]
    counts = run.counts
    if not all(error.still_failing for error in errors) or counts.errors > counts.still_failing:
        return False
    # the last run that had failures to tell: a Completed run in between, its failed records
    # waiting for their backoff, or an interrupted one, is no news either way
    previous = conn.execute(
        sa.select(runs.c.status, runs.c.message)
        .where(
            runs.c.project == run.project,
            runs.c.id < run.id,
            runs.c.status.in_([str(RunStatus.WARNING), str(RunStatus.ERROR)]),
        )
        .order_by(runs.c.id.desc())
        .limit(1)
    ).first()
    if previous is None or previous.status != str(run.status):
        return False
    # without failed records the run's message is what failed (a stage): a new one is news
    return bool(errors) or previous.message == run.message


def backoff(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` failed attempts: 1, 2, 4, ... minutes, at most 1 h."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def due_rows(history: HistoryStore, now: datetime, limit: int) -> list[dict[str, Any]]:
    """The pending rows whose next attempt is due at ``now``, the longest waiting first."""
    with history.engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox)
            .where(outbox.c.status == PENDING, outbox.c.next_attempt_at <= iso(now))
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
        ).mappings()
        return [dict(row) for row in rows]


def claim(history: HistoryStore, row: dict[str, Any], now: datetime, lease: timedelta) -> bool:
    """Take ``row`` for one attempt: count the attempt and move its next attempt past
    ``lease``, only if no other process did so since it was read. Returns whether this process
    has it (a process that dies while sending leaves it to be tried again after the lease)."""
    with history.engine.begin() as conn:
        taken = conn.execute(
            outbox.update()
            .where(
                outbox.c.id == row["id"],
                outbox.c.status == PENDING,
                outbox.c.attempts == row["attempts"],
                outbox.c.next_attempt_at == row["next_attempt_at"],
            )
            .values(attempts=row["attempts"] + 1, next_attempt_at=iso(now + lease))
        )
        return taken.rowcount == 1


def record_sent(history: HistoryStore, row_id: int, now: datetime, note: str | None) -> None:
    """Mark the row sent at ``now`` (``note``: recipients the server refused, if some were)."""
    with history.engine.begin() as conn:
        conn.execute(
            outbox.update()
            .where(outbox.c.id == row_id)
            .values(status=SENT, sent_at=iso(now), next_attempt_at=None, last_error=note)
        )


def record_failure(
    history: HistoryStore, row_id: int, attempts: int, now: datetime, error: str
) -> str:
    """Record the failed attempt number ``attempts``: pending with its next attempt after
    :func:`backoff`, or ``failed`` after :data:`MAX_ATTEMPTS`. Returns the new status."""
    gave_up = attempts >= MAX_ATTEMPTS
    with history.engine.begin() as conn:
        conn.execute(
            outbox.update()
            .where(outbox.c.id == row_id)
            .values(
                status=FAILED if gave_up else PENDING,
                next_attempt_at=None if gave_up else iso(now + backoff(attempts)),
                last_error=error,
            )
        )
    return FAILED if gave_up else PENDING
