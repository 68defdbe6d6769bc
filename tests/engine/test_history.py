"""The history store on SQLite and PostgreSQL: runs, counts, failed records, checkpoints."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from integrator.engine.history import Counts, HistoryStore, RecordError, RunStatus

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


def test_a_run_with_failures_is_a_warning_and_keeps_each_failed_record(
    store: HistoryStore,
) -> None:
    run_id = store.start_run("Contacts to Contact", ["Contacts"], mode="incremental")
    store.record_batch(run_id, 0, Counts(read=3, inserted=2), [_error("CON-01000-AAAAAA")])
    store.record_batch(
        run_id, 0, Counts(read=2, unchanged=1, errors=1), [_error("CON-01001-BBBBBB")]
    )
    assert store.finish_task(run_id, 0) == RunStatus.WARNING
    assert store.finish_run(run_id) == RunStatus.WARNING

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
    clean = store.start_run("Accounts", ["Accounts"], mode="incremental")
    store.record_batch(clean, 0, Counts(read=1, inserted=1))
    assert store.finish_run(clean) == RunStatus.COMPLETED
    failed = store.start_run("Accounts", ["Accounts"], mode="incremental")
    store.record_batch(failed, 0, Counts(read=1, errors=1), [_error("A")])
    assert store.finish_run(failed) == RunStatus.ERROR
    empty = store.start_run("Accounts", ["Accounts"], mode="incremental")
    assert store.finish_run(empty) == RunStatus.COMPLETED
    broken = store.start_run("Accounts", ["Accounts"], mode="incremental")
    assert store.finish_run(broken, RunStatus.ERROR, "CDS unreachable") == RunStatus.ERROR


def test_history_lists_newest_first_and_filters_by_project(store: HistoryStore) -> None:
    first = store.start_run("Accounts", ["Accounts"], mode="incremental")
    store.finish_run(first)
    second = store.start_run("Contacts to Contact", ["Contacts"], mode="all-data")
    store.finish_run(second)
    assert [r.id for r in store.runs()] == [second, first]
    assert [r.project for r in store.runs("Accounts")] == ["Accounts"]
    assert store.last_run("Accounts", [RunStatus.COMPLETED]) == first
    assert store.last_run("Contacts to Customer") is None


def test_checkpoint_moves_with_its_batch(store: HistoryStore) -> None:
    run_id = store.start_run("Accounts", ["Accounts"], mode="incremental")
    assert store.checkpoint("Accounts", "Accounts") is None
    store.record_batch(run_id, 0, Counts(read=1), checkpoint=("Accounts", "Accounts", "t1"))
    store.record_batch(run_id, 0, Counts(read=1), checkpoint=("Accounts", "Accounts", "t2"))
    assert store.checkpoint("Accounts", "Accounts") == "t2"
    store.clear_checkpoints("Accounts")
    assert store.checkpoint("Accounts", "Accounts") is None


def test_a_run_left_running_is_marked_interrupted(store: HistoryStore) -> None:
    run_id = store.start_run("Accounts", ["Accounts"], mode="incremental")
    assert store.mark_interrupted("Accounts", "the process stopped") == [run_id]
    run = store.run(run_id)
    assert run is not None and run.status == RunStatus.INTERRUPTED
    assert run.tasks[0].status == RunStatus.INTERRUPTED


def test_retention_purges_old_runs(store: HistoryStore) -> None:
    old = store.start_run("Accounts", ["Accounts"], mode="incremental")
    store.record_batch(old, 0, Counts(errors=1), [_error("A")])
    store.finish_run(old)
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE runs SET finished_at = '2020-01-01T00:00:00.000Z'"))
    recent = store.start_run("Accounts", ["Accounts"], mode="incremental")
    store.finish_run(recent)
    assert store.purge(45) == 1
    assert [r.id for r in store.runs()] == [recent]
    assert store.failed_records(old) == []


def test_reopening_does_not_migrate_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    HistoryStore.open(url).close()
    again = HistoryStore.open(url)
    with again.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
            "0002_record_state"
        )
    again.close()


def test_record_states_are_saved_with_their_batch(store: HistoryStore) -> None:
    from integrator.engine.history import RecordState

    run_id = store.start_run("Contacts", ["Contacts"], mode="incremental")
    first = RecordState("a", "CON-1", [{"ContactId": "CON-1"}, None], pending=True)
    second = RecordState("b", "CON-2", [{"ContactId": "CON-2"}, {"X": 1}])
    store.record_batch(
        run_id, 0, Counts(read=2), states=("Contacts", "Contacts", [first, second], [])
    )
    assert store.states("Contacts", "Contacts", ["a", "b", "c"]) == {"a": first, "b": second}
    assert store.pending_states("Contacts", "Contacts") == [first]
    first.pending = False
    store.record_batch(run_id, 0, Counts(), states=("Contacts", "Contacts", [first], ["b"]))
    assert store.states("Contacts", "Contacts", ["a", "b"]) == {"a": first}
    assert store.pending_states("Contacts", "Contacts") == []
