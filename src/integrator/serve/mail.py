"""The mail loop of ``integrator serve``: sends the outbox's due notifications every few
seconds, and at once after a run ends, in a thread of its own so that a slow or unreachable
SMTP server never holds up a run or a schedule."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa

from integrator.config.workspace import Workspace
from integrator.engine.connections import history_url
from integrator.engine.history import HistoryStore
from integrator.errors import IntegratorError
from integrator.notify import send_due

__all__ = ["MailLoop"]

log = logging.getLogger(__name__)


class MailLoop:
    """Sends due notifications of the workspace ``workspace()`` returns until ``stop`` is
    set, then once more (a run that ended as the server stopped still sends its mail)."""

    def __init__(
        self,
        workspace: Callable[[], Workspace],
        *,
        stop: threading.Event,
        interval: float = 5.0,
        say: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.workspace = workspace
        self.stop = stop
        self.interval = interval
        self.say = say
        self._wake = threading.Event()

    def wake(self) -> None:
        """Send now rather than at the next interval (a run just ended)."""
        self._wake.set()

    def run(self) -> None:
        """The loop (call in its own thread)."""
        history = HistoryStore.open(history_url(self.workspace()))
        try:
            while not self.stop.is_set():
                self._send(history)
                self._wake.wait(self.interval)
                self._wake.clear()
            self._send(history)
        finally:
            history.close()

    def _send(self, history: HistoryStore) -> None:
        try:
            report = send_due(history, self.workspace())
        except (IntegratorError, sa.exc.SQLAlchemyError) as error:
            # the history database briefly unreachable or locked: the next pass tries again
            log.error("sending notifications failed: %s", error)
            self.say(f"notifications: could not read the outbox, trying again: {error}")
            return
        if report.sent:
            self.say(f"notifications: {report.sent} mail(s) sent")
        for message in report.errors:
            self.say(f"notifications: {message}")
        if report.gave_up:
            self.say(
                f"notifications: {report.gave_up} mail(s) given up after their last attempt "
                "(integrator history --run N shows them)"
            )
