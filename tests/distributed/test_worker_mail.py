"""Notification mail in distributed mode: a worker process sends its run's mail through the
real SMTP server itself (no ``integrator serve`` running), once; and processes sending the
outbox at the same time (a worker and ``serve``) send each mail once."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.connections import history_url
from integrator.engine.history import HistoryStore
from integrator.notify import mail_status, send_due
from integrator.sandbox.testing import SandboxHandle
from tests.distributed.conftest import make_distributed, start_worker
from tests.golden.dataset import load_sales
from tests.notify.conftest import ACCOUNTS, CONTACTS, OPS, SENDER, notify
from tests.notify.smtp_servers import Handler, smtp_server
from tests.resilience import harness


def _configure(root: Path, port: int) -> None:
    with (root / "integrator.yaml").open("a", encoding="utf-8") as settings:
        settings.write(
            f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  starttls: false\n"
            f"  sender: {SENDER}\n  timeout_seconds: 5\n"
        )
    notify(root, CONTACTS, None)


def test_a_worker_sends_its_runs_mail_once(
    tmp_path: Path, sandbox: SandboxHandle, pg_history: str
) -> None:
    load_sales(sandbox.data_dir)
    root = init_workspace(tmp_path / "ws", sandbox.url)
    make_distributed(root, pg_history)
    handler = Handler()
    log = tmp_path / "worker.log"
    with smtp_server(handler) as port:
        _configure(root, port)
        queued = harness.command("run", "--queue", ACCOUNTS, CONTACTS, "--workspace", str(root))
        assert queued.returncode == 0, queued.stderr
        worker = start_worker(root, log, 5000)
        try:
            deadline = time.monotonic() + 120
            while not handler.received and time.monotonic() < deadline:
                time.sleep(0.3)
            time.sleep(1.5)  # a second copy, were one sent, would come now
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
        assert [m.rcpt_tos for m in handler.received] == [[OPS]], log.read_text()
        assert CONTACTS in str(handler.received[0].message["Subject"])
        assert "sent 1 notification mail(s)" in log.read_text()

        workspace = load_workspace(root)
        store = HistoryStore.open(history_url(workspace))
        try:
            runs = {r.project: r for r in store.runs(limit=10)}
            status = mail_status(store, runs[CONTACTS].id)
            assert status is not None and status.status == "sent"
            assert mail_status(store, runs[ACCOUNTS].id) is None
            # serve's mail loop after the worker: nothing is left to send
            assert send_due(store, workspace).sent == 0

            # the mail due again, and four processes' loops sending at once: one sends it
            with store.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "UPDATE outbox SET status = 'pending', sent_at = NULL, "
                        "next_attempt_at = '2000-01-01T00:00:00+00:00'"
                    )
                )
            start = threading.Barrier(4)
            sent: list[int] = []

            # each loop with a store (connection pool) of its own, as each process has; opened
            # one after the other, as the migration check is not for threads
            stores = [HistoryStore.open(history_url(workspace)) for _ in range(4)]

            def loop(mine: HistoryStore) -> None:
                start.wait()
                sent.append(send_due(mine, workspace).sent)

            threads = [threading.Thread(target=loop, args=(s,)) for s in stores]
            try:
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=60)
            finally:
                for each in stores:
                    each.close()
            assert sorted(sent) == [0, 0, 0, 1]
            assert len(handler.received) == 2
        finally:
            store.close()
