"""Nothing silent, nothing doubled: whatever the ticks, every slot of a schedule is run once,
waits, or is in exactly one Skipped entry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrator.config.workspace import Workspace, init_workspace
from integrator.engine.history import HistoryStore
from integrator.engine.history.tables import runs, schedules
from integrator.schedule.book import ScheduleBook
from tests.schedule.conftest import ACCOUNTS, schedule

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
MISSED = re.compile(r"^(\d+) slot\(s\) from (\S+) to (\S+) passed")
WAITED = re.compile(r"^the run due at (\S+) waited while nothing was serving")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, HistoryStore]]:
    root = init_workspace(tmp_path_factory.mktemp("acct") / "ws", "http://127.0.0.1:8700")
    ws = schedule(
        root, ACCOUNTS, {"every": 3, "unit": "minutes", "starting_at": "2026-12-01T08:00"}
    )
    store = HistoryStore.open(f"sqlite:///{root / 'history.db'}")
    yield ws, store
    store.close()


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 40 * 60), st.booleans(), st.booleans()), min_size=1, max_size=25
    )
)
def test_every_slot_is_run_waiting_or_skipped_once(
    setup: tuple[Workspace, HistoryStore], steps: list[tuple[int, bool, bool]]
) -> None:
    ws, store = setup
    with store.engine.begin() as conn:
        conn.execute(schedules.delete())
        conn.execute(runs.delete())
    book = ScheduleBook(store.engine)
    book.sync(ws, T0)
    now, running = T0, None
    started: list[str] = []
    for seconds, starts, finishes in steps:
        now += timedelta(seconds=seconds)
        if running is not None and finishes:
            store.log.finish_run(running)
            running = None
        book.claim_due(now)
        waiting = book.waiting().get(ACCOUNTS)
        if (
            waiting is not None
            and running is None
            and starts
            and book.take_waiting(ACCOUNTS, waiting)
        ):
            started.append(waiting)
            running = store.log.start_run(
                ACCOUNTS,
                ["Accounts"],
                mode="incremental",
                trigger="schedule",
                scheduled_for=waiting,
            )
    accounted = list(started)
    accounted += book.waiting().values()
    with store.engine.connect() as conn:
        skipped = conn.execute(
            sa.select(runs.c.scheduled_for, runs.c.end_reason, runs.c.message).where(
                runs.c.status == "Skipped"
            )
        ).all()
    for slot, reason, message in skipped:
        if reason == "skipped-busy":
            accounted.append(slot)
        elif (waited := WAITED.match(message)) is not None:
            assert waited.group(1) == slot
            accounted.append(slot)
        else:
            count, first, last = MISSED.match(message).groups()  # type: ignore[union-attr]
            assert first == slot
            folded = [T0 + timedelta(minutes=3 * k) for k in range(2000)]
            folded = [s for s in folded if first <= stamp(s) <= last]
            assert len(folded) == int(count)
            accounted += [stamp(s) for s in folded]
    due = [stamp(T0 + timedelta(minutes=3 * k)) for k in range(2000)]
    due = [s for s in due if s <= stamp(now)]
    assert sorted(accounted) == due, "each slot up to now exactly once"
    assert book.rows()[0].next_run_at == T0 + timedelta(minutes=3 * len(due))
