"""STARTTLS and AUTH LOGIN with the password read from its environment variable at send
time; the CA is trusted through ``SSL_CERT_FILE``. Each failure (no password, an untrusted
certificate, a wrong password) is a retried attempt with its reason; two senders at once send
the mail once."""

from __future__ import annotations

import ssl
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import trustme

from integrator.config.workspace import load_workspace
from integrator.engine.history import HistoryStore
from integrator.notify import MailStatus, SendReport, mail_status, send_due
from tests.notify.conftest import CONTACTS, OPS, Configure, history_of, run_both
from tests.notify.smtp_servers import Handler, smtp_server

PASSWORD = "s3cret-Pa55"


def test_starttls_login_and_each_failure_on_the_way(
    configure: Configure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    handler = Handler()
    with smtp_server(handler, tls_context=server_context, login=("integrator", PASSWORD)) as port:
        root = configure(port, starttls=True, login="integrator")
        # the run itself tries once: the password's variable is not set
        contacts = run_both(root, env={"TEST_SMTP_PASSWORD": None})[CONTACTS]
        assert contacts["status"] == "Warning"
        text, _ = history_of(root, contacts["id"])
        assert (
            f"Mail to {OPS}: pending, attempt 1 of 8 failed: cannot read the SMTP password: the "
            "environment variable TEST_SMTP_PASSWORD is not set; next attempt at 20"
        ) in text

        workspace = load_workspace(root)
        store = HistoryStore.open(workspace.history_database_url)

        def mail() -> MailStatus:
            status = mail_status(store, contacts["id"])
            assert status is not None
            return status

        later = datetime.fromisoformat(mail().next_attempt_at or "")

        def attempt(minutes: int) -> SendReport:
            return send_due(store, workspace, now=later + timedelta(minutes=minutes))

        try:
            monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
            monkeypatch.delenv("SSL_CERT_FILE", raising=False)
            monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))  # no system CA trusts trustme's
            assert attempt(0).retrying == 1
            assert "certificate of the SMTP server" in (mail().last_error or "")
            assert "cannot be trusted" in (mail().last_error or "")

            monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
            assert attempt(10).retrying == 1
            text, detail = history_of(root, contacts["id"])
            assert (
                f"attempt 3 of 8 failed: the SMTP server 127.0.0.1:{port} refused the login of "
                "integrator: 535 5.7.8 Authentication credentials invalid"
            ) in text
            assert handler.received == []

            # two processes send at once: the mail goes once
            monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
            reports: list[SendReport] = []
            others = [HistoryStore.open(workspace.history_database_url) for _ in range(2)]
            threads = [
                threading.Thread(
                    target=lambda s=s: reports.append(
                        send_due(s, workspace, now=later + timedelta(minutes=60))
                    )
                )
                for s in others
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            for other in others:
                other.close()
        finally:
            store.close()
        assert sorted(r.sent for r in reports) == [0, 1]
        assert len(handler.received) == 1 and handler.received[0].rcpt_tos == [OPS]
        assert handler.logins[-1] == ("integrator", PASSWORD)
        text, detail = history_of(root, contacts["id"])
        assert f"Mail to {OPS}: sent at 20" in text
        assert detail["mail"]["attempts"] == 4
        assert PASSWORD not in text + str(detail) + handler.received[0].body
