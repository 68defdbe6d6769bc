"""A server that refuses the recipient and one that drops the connection: the run's status and
exit code are as without mail, the mail stays pending with the reason, each attempt waits
twice as long (at most an hour), and after the 8th it is given up, as ``integrator history
--run N`` shows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta

import pytest

from integrator.config.workspace import load_workspace
from integrator.engine.history import HistoryStore
from integrator.notify import MailStatus, mail_status, send_due
from tests.commands import integrator
from tests.notify.conftest import ACCOUNTS, CONTACTS, OPS, Configure, as_json, history_of
from tests.notify.smtp_servers import Handler, dropping_server, smtp_server


@contextmanager
def refusing_server() -> Iterator[int]:
    with smtp_server(
        Handler(rcpt_reply="550 5.1.1 <ops@contoso.com>: mailbox unavailable")
    ) as port:
        yield port


SERVERS: dict[str, tuple[Callable[[], AbstractContextManager[int]], str]] = {
    "refuses the recipient": (
        refusing_server,
        "the SMTP server 127.0.0.1:{port} refused every recipient: ops@contoso.com "
        "(550 5.1.1 <ops@contoso.com>: mailbox unavailable)",
    ),
    "drops the connection": (
        dropping_server,
        "the SMTP server 127.0.0.1:{port} closed the connection (Connection unexpectedly closed)",
    ),
}


@pytest.mark.parametrize("behaviour", list(SERVERS))
def test_a_mail_that_cannot_be_sent_is_retried_then_given_up(
    configure: Configure, behaviour: str
) -> None:
    server, reason = SERVERS[behaviour]
    with server() as port:
        root = configure(port)
        error = reason.format(port=port)
        done = integrator("run", ACCOUNTS, CONTACTS, "--workspace", str(root))
        assert done.returncode == 0, done.stderr  # as with no mail at all: Warnings
        assert f"Mail to {OPS}: pending, attempt 1 of 8 failed: {error}" in done.stdout
        listed = as_json(integrator("history", CONTACTS, "--workspace", str(root), "--json"))
        contacts = listed["runs"][0]
        assert contacts["status"] == "Warning"
        text, detail = history_of(root, contacts["id"])
        assert f"Mail to {OPS}: pending, attempt 1 of 8 failed: {error}; next attempt at" in text
        assert detail["status"] == "Warning"
        assert detail["mail"]["status"] == "pending" and detail["mail"]["last_error"] == error

        workspace = load_workspace(root)
        store = HistoryStore.open(workspace.history_database_url)
        try:

            def mail() -> MailStatus:
                status = mail_status(store, contacts["id"])
                assert status is not None
                return status

            waits: list[timedelta] = []
            tried_at = datetime.fromisoformat(detail["started_at"].replace("Z", "+00:00"))
            while mail().status == "pending":
                due = datetime.fromisoformat(mail().next_attempt_at or "")
                waits.append(due - tried_at)
                # not yet due: nothing is tried
                assert send_due(store, workspace, now=due - timedelta(seconds=1)).retrying == 0
                report = send_due(store, workspace, now=due)
                assert report.sent == 0 and report.errors == [error]
                tried_at = due
            # attempt 1 was the run's own, at about its start
            assert [round(w.total_seconds() / 60) for w in waits[1:]] == [2, 4, 8, 16, 32, 60]
            assert mail().status == "failed" and mail().attempts == 8
            assert send_due(store, workspace, now=tried_at + timedelta(days=1)).errors == []
        finally:
            store.close()
        text, detail = history_of(root, contacts["id"])
        assert f"Mail to {OPS}: not sent after 8 attempts: {error}" in text
        assert detail["mail"]["status"] == "failed" and detail["status"] == "Warning"
