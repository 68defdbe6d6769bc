"""The schedule book: next slots and waiting slots in the history database, claimed once however
many processes tick, with every slot that cannot run recorded Skipped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from integrator.engine.history import HistoryStore
from integrator.engine.history.models import EndReason
from integrator.engine.history.tables import runs
from integrator.schedule.book import ScheduleBook
from tests.schedule.conftest import ACCOUNTS, CONTACTS, schedule

EVERY_MINUTE = {"every": 1, "unit": "minutes", "starting_at": "2026-12-01T08:00:00"}
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def stamp(minutes: float) -> str:
    return at(minutes).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def store(history_url: str) -> Iterator[HistoryStore]:
    opened = HistoryStore.open(history_url)
    yield opened
    opened.close()


def skipped_rows(store: HistoryStore) -> list[tuple[str, str, str, str, str]]:
    with store.engine.connect() as conn:
        found = conn.execute(
            sa.select(
                runs.c.project,
                runs.c.status,
                runs.c.scheduled_for,
                runs.c.end_reason,
                runs.c.message,
            ).order_by(runs.c.id)
        )
        return [tuple(row) for row in found]  # type: ignore[misc]


def test_sync_follows_the_project_files(workspace_root: Path, store: HistoryStore) -> None:
    book = ScheduleBook(store.engine)
    ws = schedule(workspace_root, ACCOUNTS, EVERY_MINUTE)
    book.sync(ws, at(5))  # a slot exactly now counts
    [row] = book.rows()
    assert (row.project, row.next_run_at) == (ACCOUNTS, at(5))
    book.sync(ws, at(5.5))
    assert book.rows()[0].next_run_at == at(5), "an unchanged schedule keeps its next slot"

    book.claim_due(at(5.5))
    ws = schedule(workspace_root, ACCOUNTS, {**EVERY_MINUTE, "every": 10})
    book.sync(ws, at(6.2))
    [row] = book.rows()
    assert row.next_run_at == at(10), "an edited schedule is recomputed from now"
    assert book.waiting() == {ACCOUNTS: stamp(5)}, "the slot already claimed still waits"

    ws = schedule(workspace_root, ACCOUNTS, None)
    book.sync(ws, at(7))
    assert book.rows() == []


def test_a_schedule_without_start_begins_when_first_seen(
    workspace_root: Path, store: HistoryStore
) -> None:
    book = ScheduleBook(store.engine)
    ws = schedule(workspace_root, ACCOUNTS, {"every": 15, "unit": "minutes"})
    book.sync(ws, at(3.5))
    assert book.rows()[0].next_run_at == at(18)
    book.sync(ws, at(30))
    assert book.rows()[0].next_run_at == at(18), "its grid stays where it was first seen"


def test_two_books_on_two_engines_claim_each_slot_once(
    workspace_root: Path, store: HistoryStore, history_url: str
) -> None:
    ws = schedule(workspace_root, ACCOUNTS, EVERY_MINUTE)
    ws = schedule(workspace_root, CONTACTS, EVERY_MINUTE)
    other = HistoryStore.open(history_url)
    try:
        books = [ScheduleBook(store.engine), ScheduleBook(other.engine)]
        for book in books:
            book.sync(ws, at(0))
        started: list[tuple[str, str]] = []
        lock = threading.Lock()

        def serve(book: ScheduleBook, barrier: threading.Barrier, minute: int) -> None:
            barrier.wait()
            book.claim_due(at(minute + 0.1))
            for project, slot in book.waiting().items():
                if book.take_waiting(project, slot):
                    with lock:
                        started.append((project, slot))

        for minute in range(20):
            barrier = threading.Barrier(2)
            threads = [threading.Thread(target=serve, args=(b, barrier, minute)) for b in books]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        expected = [(p, stamp(m)) for m in range(20) for p in (ACCOUNTS, CONTACTS)]
        assert sorted(started) == sorted(expected)
        assert skipped_rows(store) == []
    finally:
        other.close()


def test_a_slot_due_while_one_waits_is_recorded_skipped(
    workspace_root: Path, store: HistoryStore
) -> None:
    book = ScheduleBook(store.engine)
    book.sync(schedule(workspace_root, ACCOUNTS, EVERY_MINUTE), at(0))
    book.claim_due(at(0.1))
    assert book.take_waiting(ACCOUNTS, stamp(0))
    run_id = store.log.start_run(
        ACCOUNTS, ["Accounts"], mode="incremental", trigger="schedule", scheduled_for=stamp(0)
    )
    book.claim_due(at(1.1))  # slot 1 waits for run of slot 0
    book.claim_due(at(2.1))  # slot 2 finds slot 1 waiting
    assert book.waiting() == {ACCOUNTS: stamp(1)}
    [(project, status, slot, reason, message)] = [
        r for r in skipped_rows(store) if r[1] == "Skipped"
    ]
    assert (project, status, slot, reason) == (ACCOUNTS, "Skipped", stamp(2), "skipped-busy")
    assert message == (
        f"run {run_id} of {ACCOUNTS} was still running and the run due at {stamp(1)} "
        "already waited for it"
    )


def test_slots_missed_while_nothing_served_fold_into_one_run(
    workspace_root: Path, store: HistoryStore
) -> None:
    book = ScheduleBook(store.engine)
    book.sync(schedule(workspace_root, ACCOUNTS, EVERY_MINUTE), at(0))
    book.claim_due(at(10.5))
    assert book.waiting() == {ACCOUNTS: stamp(10)}
    assert book.rows()[0].next_run_at == at(11)
    assert skipped_rows(store) == [
        (
            ACCOUNTS,
            "Skipped",
            stamp(0),
            "skipped-missed",
            f"10 slot(s) from {stamp(0)} to {stamp(9)} passed while nothing was serving; "
            f"they fold into the run for {stamp(10)}",
        )
    ]
    book.claim_due(at(10.7))
    assert len(skipped_rows(store)) == 1, "a second tick adds nothing"


def test_a_slot_that_waited_through_a_downtime_gives_way_to_the_newest(
    workspace_root: Path, store: HistoryStore
) -> None:
    book = ScheduleBook(store.engine)
    book.sync(schedule(workspace_root, ACCOUNTS, EVERY_MINUTE), at(0))
    book.claim_due(at(0.1))  # slot 0 waits; then nothing serves until 5.5
    book.claim_due(at(5.5))
    assert book.waiting() == {ACCOUNTS: stamp(5)}, "the newest slot runs, not the old one"
    skipped = [(r[2], r[3], r[4]) for r in skipped_rows(store) if r[1] == "Skipped"]
    assert skipped == [
        (
            stamp(1),
            "skipped-missed",
            f"4 slot(s) from {stamp(1)} to {stamp(4)} passed while nothing was serving; "
            f"they fold into the run for {stamp(5)}",
        ),
        (
            stamp(0),
            "skipped-missed",
            f"the run due at {stamp(0)} waited while nothing was serving; it folds into the "
            f"run for {stamp(5)}",
        ),
    ]


def test_the_book_survives_reopening(
    workspace_root: Path, store: HistoryStore, history_url: str
) -> None:
    book = ScheduleBook(store.engine)
    ws = schedule(workspace_root, ACCOUNTS, {**EVERY_MINUTE, "every": 5})
    book.sync(ws, at(0))
    book.claim_due(at(1))
    before = book.rows()
    store.close()
    reopened = HistoryStore.open(history_url)
    try:
        again = ScheduleBook(reopened.engine)
        again.sync(ws, at(3))
        assert again.rows() == before
        assert again.waiting() == {ACCOUNTS: stamp(0)}
        assert again.rows()[0].next_run_at == at(5)
    finally:
        reopened.close()


def test_record_skipped_once_per_slot(store: HistoryStore) -> None:
    book = ScheduleBook(store.engine)
    first = book.record_skipped(ACCOUNTS, stamp(0), EndReason.SKIPPED_BUSY, "busy")
    assert isinstance(first, int)
    assert book.record_skipped(ACCOUNTS, stamp(0), EndReason.SKIPPED_BUSY, "busy") is None
    [summary] = store.log.runs(ACCOUNTS)
    assert (summary.status, summary.trigger, summary.scheduled_for, summary.end_reason) == (
        "Skipped",
        "schedule",
        stamp(0),
        "skipped-busy",
    )
    assert summary.tasks == []
    assert summary.finished_at == summary.started_at


def test_a_claim_from_a_stale_read_changes_nothing(
    workspace_root: Path, store: HistoryStore, history_url: str
) -> None:
    """The interleaving the threads above may or may not hit: B read the row, A claimed and
    started the slot, then B's claim (from its read) must not make the slot wait again."""
    other = HistoryStore.open(history_url)
    try:
        a, b = ScheduleBook(store.engine), ScheduleBook(other.engine)
        a.sync(schedule(workspace_root, ACCOUNTS, EVERY_MINUTE), at(0))
        stale = b.rows()[0]
        a.claim_due(at(0.1))
        assert a.take_waiting(ACCOUNTS, stamp(0))
        b._claim(stale, at(0.1))
        assert b.waiting() == {}
        assert not b.take_waiting(ACCOUNTS, stamp(0))
        assert b.rows()[0].next_run_at == at(1)
    finally:
        other.close()
