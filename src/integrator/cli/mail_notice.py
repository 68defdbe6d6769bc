"""The notification mail in the CLI: sending the outbox after a run, and the line that says
where a run's mail is (``integrator history --run N``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from rich.console import Console

from integrator.config.workspace import Workspace
from integrator.engine.connections import history_url
from integrator.engine.history import HistoryStore, RunSummary
from integrator.notify import MAX_ATTEMPTS, MailStatus, mail_status, send_due
from integrator.notify.compose import readable_time

__all__ = ["describe_mail", "print_mail", "send_outbox"]

log = logging.getLogger(__name__)


def describe_mail(status: MailStatus) -> str:
    """One line: to whom, and sent (when), pending (the last failure, the next attempt) or
    given up (why)."""
    to = f"Mail to {', '.join(status.recipients)}"
    if status.status == "sent":
        sent = f"{to}: sent at {readable_time(status.sent_at or '')}"
        return f"{sent} ({status.last_error})" if status.last_error else sent
    if status.status == "failed":
        return f"{to}: not sent after {status.attempts} attempts: {status.last_error}"
    if status.attempts == 0 or status.last_error is None:
        return f"{to}: pending (sent by the next `integrator run`, `integrator serve` or worker)"
    next_at = readable_time(status.next_attempt_at or "")
    return (
        f"{to}: pending, attempt {status.attempts} of {MAX_ATTEMPTS} failed: "
        f"{status.last_error}; next attempt at {next_at}"
    )


def print_mail(console: Console, status: MailStatus | None) -> None:
    """Print :func:`describe_mail`'s line, when the run has a mail."""
    if status is not None:
        console.print(
            describe_mail(status), markup=False, highlight=False, emoji=False, soft_wrap=True
        )


def send_outbox(
    workspace: Workspace, summaries: Sequence[RunSummary], console: Console | None
) -> None:
    """Send the outbox's due mails once (those of ``summaries`` and any left from before), then
    print the mail line of each of ``summaries`` on ``console`` (none when ``None``). Never
    raises: a mail that cannot be sent now stays in the outbox, and the exit code is the
    runs'."""
    smtp = workspace.settings.smtp
    if smtp is None and not any(p.notify for p in workspace.projects.values()):
        return
    try:
        store = HistoryStore.open(history_url(workspace))
        try:
            send_due(store, workspace)
            statuses = [mail_status(store, s.id) for s in summaries]
        finally:
            store.close()
    except Exception:
        log.exception("the outbox could not be sent")
        return
    if console is not None:
        for status in statuses:
            print_mail(console, status)
