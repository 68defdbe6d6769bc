"""Stopping runs in process (the stop event, a cancel request), the heartbeat, and the runs
whose process died (stale heartbeat and a free project lock)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from integrator.config.workspace import Workspace, init_workspace, load_workspace
from integrator.engine import read
from integrator.engine.connections import history_url
from integrator.engine.control import RunControl, RunStopped, request_cancel
from integrator.engine.history import EndReason, HistoryStore, RunStatus
from integrator.engine.liveness import recognise_dead_runs
from integrator.engine.lock import ProjectLock
from integrator.engine.run import Engine, Progress
from integrator.sandbox.testing import SandboxHandle
from tests.resilience import harness
from tests.resilience.harness import Dataset

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
SMALL = Dataset("cancel", accounts=40, contacts=300, random_seed=11, page_size=20)


@pytest.fixture
def served_workspace(tmp_path: Path) -> Iterator[tuple[Workspace, SandboxHandle]]:
    """A workspace on a sandbox of the clean small dataset, served in pages of 20."""
    data_dir = harness.prepare(SMALL, tmp_path)
    with harness.served(data_dir, SMALL) as handle:
        root = init_workspace(tmp_path / "ws", handle.url)
        yield load_workspace(root), handle


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 20 selected records (normally 5000), so a small task commits several."""
    monkeypatch.setattr(read, "SELECTED_PER_PAGE", 20)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Workspace, HistoryStore]]:
    """A workspace (no system is asked) and its history store."""
    workspace = load_workspace(init_workspace(tmp_path / "ws", "http://127.0.0.1:9"))
    history = HistoryStore.open(history_url(workspace))
    yield workspace, history
    history.close()


def test_the_stop_event_interrupts_after_the_committed_batch_and_returns_the_runs(
    served_workspace: tuple[Workspace, SandboxHandle], small_batches: None
) -> None:
    workspace, _ = served_workspace
    stop = threading.Event()
    seen: list[Progress] = []

    def progress(update: Progress) -> None:
        seen.append(update)
        if update.project == CONTACTS and not update.finished:
            stop.set()  # as integrator serve's signal handler does, during the batch

    engine = Engine(workspace, progress=progress, stop=stop)
    try:
        summaries = engine.run()
        history = engine.history.runs()
    finally:
        engine.close()

    assert [(s.project, s.status) for s in summaries] == [
        (ACCOUNTS, RunStatus.COMPLETED),
        (CONTACTS, RunStatus.INTERRUPTED),
    ]
    stopped = summaries[1]
    assert stopped.end_reason == EndReason.INTERRUPTED
    assert stopped.message is not None and stopped.message.startswith("integrator serve stopped")
    assert stopped.finished_at is not None
    # exactly the first batch committed and is kept: the batch the event was set in
    first_batch = next(u for u in seen if u.project == CONTACTS and not u.finished)
    assert stopped.tasks[0].status == RunStatus.INTERRUPTED
    assert stopped.tasks[0].counts == first_batch.counts
    assert 0 < stopped.tasks[0].counts.inserted < 115
    # no further project was started
    assert [run.project for run in history] == [CONTACTS, ACCOUNTS]


def test_a_cancel_request_stops_the_run_cancelled_and_the_next_run_goes_on(
    served_workspace: tuple[Workspace, SandboxHandle], small_batches: None
) -> None:
    workspace, _ = served_workspace
    asked: list[int] = []

    def progress(update: Progress) -> None:
        if update.project == ACCOUNTS and not update.finished and not asked:
            run_id = engine.history.last_run(ACCOUNTS)
            assert run_id is not None
            asked.append(run_id)
            assert request_cancel(engine.history, run_id).state == "requested"
            time.sleep(0.3)  # the run sees the request at its next poll (0.1 s here)

    engine = Engine(workspace, progress=progress, heartbeat_seconds=0.1)
    try:
        [cancelled] = engine.run([ACCOUNTS])
    finally:
        engine.close()
    assert cancelled.status == RunStatus.CANCELLED
    assert cancelled.end_reason == EndReason.CANCELLED
    assert cancelled.cancel_requested_at is not None
    assert cancelled.message == (
        f"cancelled by integrator cancel (requested at {cancelled.cancel_requested_at}); what "
        "it committed stays, the next run goes on from there"
    )
    kept = cancelled.tasks[0].counts.inserted
    assert 0 < kept < 40

    again = Engine(workspace)
    try:
        [finished] = again.run([ACCOUNTS])
    finally:
        again.close()
    assert finished.status == RunStatus.COMPLETED
    counts = finished.tasks[0].counts
    assert counts.inserted == 40 - kept and counts.errors == 0  # nothing lost, none twice


def test_the_heartbeat_moves_while_a_run_runs(store: tuple[Workspace, HistoryStore]) -> None:
    _, history = store
    run_id = history.log.start_run(ACCOUNTS, ["Accounts"], mode="incremental")
    started = history.run(run_id)
    assert started is not None and started.heartbeat_at is not None
    with RunControl(history, run_id, stop=None, heartbeat_seconds=0.05) as control:
        time.sleep(0.3)
        control.check()  # nothing asked: returns
        beating = history.run(run_id)
    assert beating is not None and beating.heartbeat_at is not None
    assert beating.heartbeat_at > started.heartbeat_at


def test_check_raises_once_asked_to_cancel(store: tuple[Workspace, HistoryStore]) -> None:
    _, history = store
    run_id = history.log.start_run(ACCOUNTS, ["Accounts"], mode="incremental")
    with RunControl(history, run_id, stop=None, heartbeat_seconds=0.05) as control:
        outcome = request_cancel(history, run_id)
        assert outcome.state == "requested"
        time.sleep(0.3)
        with pytest.raises(RunStopped) as stopped:
            control.check()
    assert stopped.value.status == RunStatus.CANCELLED
    assert stopped.value.end_reason == EndReason.CANCELLED


def test_a_run_with_an_old_heartbeat_and_a_free_lock_is_recognised_dead(
    store: tuple[Workspace, HistoryStore],
) -> None:
    workspace, history = store
    dead = history.log.start_run(ACCOUNTS, ["Accounts"], mode="incremental")
    history.log.start_task(dead, 0)
    alive = history.log.start_run(CONTACTS, ["Contacts"], mode="incremental")
    later = datetime.now(UTC) + timedelta(minutes=5)
    # the contacts project is locked (here by this very process): its run is alive
    with ProjectLock(workspace.root / ".integrator" / "locks", CONTACTS):
        assert recognise_dead_runs(history, workspace) == []  # heartbeats are fresh
        assert recognise_dead_runs(history, workspace, now=later) == [dead]
    recorded = history.run(dead)
    assert recorded is not None
    assert recorded.status == RunStatus.INTERRUPTED
    assert recorded.tasks[0].status == RunStatus.INTERRUPTED
    assert recorded.end_reason == EndReason.PROCESS_DIED
    assert recorded.message == (
        f"its process stopped without recording an end (last heartbeat at {recorded.heartbeat_at})"
    )
    still = history.run(alive)
    assert still is not None and still.status == RunStatus.RUNNING
    # once its lock is free the other one is dead too; asking again changes nothing
    assert recognise_dead_runs(history, workspace, now=later) == [alive]
    assert recognise_dead_runs(history, workspace, now=later) == []


def test_a_failing_heartbeat_never_ends_the_run_and_beats_again_once_the_history_is_back(
    store: tuple[Workspace, HistoryStore], caplog: pytest.LogCaptureFixture
) -> None:
    workspace, history = store
    run_id = history.log.start_run(ACCOUNTS, ["Accounts"], mode="incremental")
    database = workspace.root / "history.db"
    with RunControl(history, run_id, stop=None, heartbeat_seconds=0.05) as control:
        time.sleep(0.2)
        conn = sqlite3.connect(database)
        conn.execute("ALTER TABLE runs RENAME TO runs_away")  # every beat and poll fails now
        conn.commit()
        time.sleep(0.3)
        control.check()  # nothing asked, and the failures are not a reason to stop
        conn.execute("ALTER TABLE runs_away RENAME TO runs")
        conn.commit()
        conn.close()
        back = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        time.sleep(0.3)
        beating = history.run(run_id)
    assert any("heartbeat or cancel poll failed" in r.getMessage() for r in caplog.records)
    assert beating is not None and beating.heartbeat_at is not None
    assert beating.heartbeat_at > back


def test_a_run_stopped_under_a_worker_names_the_worker(
    store: tuple[Workspace, HistoryStore],
) -> None:
    _, history = store
    run_id = history.log.start_run(ACCOUNTS, ["Accounts"], mode="incremental")
    stop = threading.Event()
    stop.set()
    with (
        RunControl(
            history, run_id, stop=stop, heartbeat_seconds=0.05, stopped_by="integrator worker"
        ) as control,
        pytest.raises(RunStopped) as stopped,
    ):
        control.check()
    assert stopped.value.status == RunStatus.INTERRUPTED
    assert str(stopped.value).startswith("integrator worker stopped (SIGINT or SIGTERM)")
