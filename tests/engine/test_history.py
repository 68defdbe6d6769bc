"""The history store on SQLite and PostgreSQL: runs, counts, failed records, checkpoints."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from integrator.engine.history import (
    Counts,
    HistoryStore,
    PageCommit,
    RecordError,
    RecordState,
    RunStatus,
)

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    if request.param == "sqlite":
        history = HistoryStore.open(f"sqlite:///{tmp_path / 'history.db'}")
        yield history
        history.close()
        return
    schema = f"history_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as error:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {error}")
    history = HistoryStore.open(f"{PG_URL}?options=-csearch_path%3D{schema}")
    yield history
    history.close()
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _error(key: str) -> RecordError:
    return RecordError(
        task="Contacts",
        leg="CDS → Destination",
        key=key,
        field="DecisionMakingRoleCode",
        message="DecisionMakingRoleCode 'Influencer' does not exist in company USMF",
        source_key={"msdynce_contactnumber": key},
    )


def _batch(
    run_id: int,
    counts: Counts,
    errors: list[RecordError] | None = None,
    *,
    task: str = "Contacts",
    project: str = "Contacts to Contact",
    **more: object,
) -> PageCommit:
    return PageCommit(run_id, 0, project, task, counts, errors or [], **more)  # type: ignore[arg-type]


def test_a_run_with_failures_is_a_warning_and_keeps_each_failed_record(
    store: HistoryStore,
) -> None:
    log = store.log
    run_id = log.start_run("Contacts to Contact", ["Contacts"], mode="incremental")
    log.start_task(run_id, 0)
    store.record_batch(_batch(run_id, Counts(read=3, inserted=2), [_error("CON-01000-AAAAAA")]))
    store.record_batch(
        _batch(run_id, Counts(read=2, unchanged=1, errors=1), [_error("CON-01001-BBBBBB")])
    )
    assert log.finish_task(run_id, 0) == RunStatus.WARNING
    assert log.finish_run(run_id) == RunStatus.WARNING

    run = store.run(run_id)
    assert run is not None
    assert run.status == RunStatus.WARNING and run.finished_at is not None
    task = run.tasks[0]
    assert task.counts.as_dict() == {
        "read": 5,
        "inserted": 2,
        "updated": 0,
        "unchanged": 1,
        "errors": 1,
    }
    assert [e.key for e in task.errors] == ["CON-01000-AAAAAA", "CON-01001-BBBBBB"]
    assert task.errors[0].source_key == {"msdynce_contactnumber": "CON-01000-AAAAAA"}
    assert task.errors[0].as_dict()["field"] == "DecisionMakingRoleCode"


def test_statuses_follow_data_integrator(store: HistoryStore) -> None:
    log = store.log
    clean = log.start_run("Accounts", ["Accounts"], mode="incremental")
    store.record_batch(_batch(clean, Counts(read=1, inserted=1)))
    assert log.finish_run(clean) == RunStatus.COMPLETED
    failed = log.start_run("Accounts", ["Accounts"], mode="incremental")
    store.record_batch(_batch(failed, Counts(read=1, errors=1), [_error("A")]))
    assert log.finish_run(failed) == RunStatus.ERROR
    empty = log.start_run("Accounts", ["Accounts"], mode="incremental")
    assert log.finish_run(empty) == RunStatus.COMPLETED
    broken = log.start_run("Accounts", ["Accounts"], mode="incremental")
    assert log.finish_run(broken, RunStatus.ERROR, "CDS unreachable") == RunStatus.ERROR


def test_records_still_failing_the_same_way_make_a_warning_not_an_error(
    store: HistoryStore,
) -> None:
    log = store.log
    again = log.start_run("Accounts", ["Accounts"], mode="incremental")
    store.record_batch(_batch(again, Counts(read=2, errors=2, still_failing=2)))
    assert log.finish_run(again) == RunStatus.WARNING
    new = log.start_run("Accounts", ["Accounts"], mode="incremental")
    store.record_batch(_batch(new, Counts(read=2, errors=2, still_failing=1)))
    assert log.finish_run(new) == RunStatus.ERROR


def test_a_failed_task_is_error_and_the_tasks_after_it_not_run(store: HistoryStore) -> None:
    log = store.log
    run_id = log.start_run("Contacts to Customer", ["First", "Second", "Third"], mode="incremental")
    log.start_task(run_id, 0)
    store.record_batch(_batch(run_id, Counts(read=1, inserted=1), task="First"))
    log.finish_task(run_id, 0)
    log.start_task(run_id, 1)
    log.finish_run(run_id, RunStatus.ERROR, "run 1, task Second: stage read failed: HTTP 500")
    run = store.run(run_id)
    assert run is not None and run.status == RunStatus.ERROR
    assert [t.status for t in run.tasks] == [
        RunStatus.COMPLETED,
        RunStatus.ERROR,
        RunStatus.NOT_RUN,
    ]


def test_history_lists_newest_first_and_filters_by_project(store: HistoryStore) -> None:
    first = store.log.start_run("Accounts", ["Accounts"], mode="incremental")
    store.log.finish_run(first)
    second = store.log.start_run("Contacts to Contact", ["Contacts"], mode="all-data")
    store.log.finish_run(second)
    assert [r.id for r in store.runs()] == [second, first]
    assert [r.project for r in store.runs("Accounts")] == ["Accounts"]
    assert store.last_run("Accounts", [RunStatus.COMPLETED]) == first
    assert store.last_run("Contacts to Customer") is None


def test_checkpoint_moves_with_its_batch(store: HistoryStore) -> None:
    run_id = store.log.start_run("Accounts", ["Accounts"], mode="incremental")
    records = store.records
    assert records.checkpoint("Accounts", "Accounts") is None
    for mark in ("t1", "t2"):
        store.record_batch(
            _batch(run_id, Counts(read=1), project="Accounts", task="Accounts", checkpoint=mark)
        )
    assert records.checkpoint("Accounts", "Accounts") == "t2"
    records.clear_checkpoints("Accounts")
    assert records.checkpoint("Accounts", "Accounts") is None


def test_a_run_left_running_is_marked_interrupted(store: HistoryStore) -> None:
    run_id = store.log.start_run("Accounts", ["Accounts"], mode="incremental")
    store.log.start_task(run_id, 0)
    assert store.log.mark_interrupted("Accounts", "the process stopped") == [run_id]
    run = store.run(run_id)
    assert run is not None and run.status == RunStatus.INTERRUPTED
    assert run.tasks[0].status == RunStatus.INTERRUPTED


def test_retention_purges_old_runs(store: HistoryStore) -> None:
    old = store.log.start_run("Accounts", ["Accounts"], mode="incremental")
    store.record_batch(_batch(old, Counts(errors=1), [_error("A")]))
    store.log.finish_run(old)
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE runs SET finished_at = '2020-01-01T00:00:00.000Z'"))
    recent = store.log.start_run("Accounts", ["Accounts"], mode="incremental")
    store.log.finish_run(recent)
    assert store.purge(45) == 1
    assert [r.id for r in store.runs()] == [recent]
    assert store.failed_records(old) == []


def test_reopening_does_not_migrate_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    HistoryStore.open(url).close()
    again = HistoryStore.open(url)
    with again.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
            "0009_change_partitions"
        )
    again.close()


def test_record_states_are_saved_with_their_batch(store: HistoryStore) -> None:
    from integrator.engine.history import RecordFailure

    run_id = store.log.start_run("Contacts", ["Contacts"], mode="incremental")
    records = store.records
    failure = RecordFailure("data", [["Source → CDS", "x", "bad"]], 1, 1, 1, "2026-01-01T01:00Z")
    first = RecordState("a", "CON-1", [{"ContactId": "CON-1"}, None], True, failure)
    second = RecordState("b", "CON-2", [{"ContactId": "CON-2"}, {"X": 1}])
    batch = _batch(run_id, Counts(read=2), task="Contacts", project="Contacts")
    batch.states = [first, second]
    store.record_batch(batch)
    assert records.states("Contacts", "Contacts", ["a", "b", "c"]) == {"a": first, "b": second}
    assert records.pending_states("Contacts", "Contacts") == [first]
    assert records.waiting("Contacts", "Contacts", 2).records == 1
    first.pending, first.failure = False, None
    batch = _batch(run_id, Counts(), task="Contacts", project="Contacts", forget=["b"])
    batch.states = [first]
    store.record_batch(batch)
    assert records.states("Contacts", "Contacts", ["a", "b"]) == {"a": first}
    assert records.pending_states("Contacts", "Contacts") == []


def test_a_record_given_twice_in_one_page_keeps_its_last_state(store: HistoryStore) -> None:
    run_id = store.log.start_run("Contacts", ["Contacts"], mode="incremental")
    first = RecordState("a", "CON-1", [{"ContactId": "CON-1"}, None], True)
    last = RecordState("a", "CON-1", [{"ContactId": "CON-1"}, {"X": 1}])
    batch = _batch(run_id, Counts(read=2), task="Contacts", project="Contacts")
    batch.states = [first, last]
    store.record_batch(batch)
    assert store.records.states("Contacts", "Contacts", ["a"]) == {"a": last}
    assert store.records.pending_ids("Contacts", "Contacts", None) == []


def test_a_page_of_thousands_of_states_is_saved_looked_up_and_forgotten(
    store: HistoryStore,
) -> None:
    records = store.records
    states = [
        RecordState(f"id-{i:05d}", f"CON-{i}", [{"ContactId": f"CON-{i}"}], pending=i % 3 == 0)
        for i in range(2500)
    ]
    records.save_states("Contacts", "Contacts", states)
    records.save_states("Accounts", "Contacts", states[:10])  # another project, same ids
    wanted = [state.source_id for state in states[::2]] + ["missing"]
    assert records.states("Contacts", "Contacts", wanted) == {s.source_id: s for s in states[::2]}
    assert sorted(records.pending_ids("Contacts", "Contacts", None)) == [
        s.source_id for s in states if s.pending
    ]
    run_id = store.log.start_run("Contacts", ["Contacts"], mode="incremental")
    gone = [state.source_id for state in states[:2000]]
    store.record_batch(_batch(run_id, Counts(), task="Contacts", project="Contacts", forget=gone))
    assert sorted(records.states("Contacts", "Contacts", wanted)) == [
        s.source_id for s in states[2000::2]
    ]
    assert len(records.states("Accounts", "Contacts", gone)) == 10


def test_truncations_add_up_over_pages_and_come_back_with_the_run(store: HistoryStore) -> None:
    from integrator.engine.history import Truncation

    run_id = store.log.start_run("Contacts to Contact", ["Contacts"], mode="incremental")
    leg = "CDS → Destination"
    store.record_batch(
        _batch(run_id, Counts(read=2), truncations=[Truncation(leg, "LastName", 25, 2, 40)])
    )
    store.record_batch(
        _batch(
            run_id,
            Counts(read=10),
            truncations=[
                Truncation(leg, "LastName", 25, 10, 50),
                Truncation(leg, "FirstName", 25, 1, 30),
            ],
        )
    )
    store.log.finish_run(run_id)
    summary = store.run(run_id)
    assert summary is not None and summary.status == RunStatus.COMPLETED
    assert summary.tasks[0].truncations == [
        Truncation(leg, "FirstName", 25, 1, 30),
        Truncation(leg, "LastName", 25, 12, 50),
    ]
