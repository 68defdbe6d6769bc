"""The seen marks of a partitioned full read in the history, on SQLite and PostgreSQL: a
partition's page marks the ids it saw in its own commit (ids seen twice stay one mark), the
task's states no page marked are found page by page in source-id order, and the marks go with
the plan. A plan left unfinished by the version before the marks finishes removing nothing
its done partitions read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import integrator.engine.history as history_package
from integrator.engine.history import Counts, HistoryStore, PageCommit, RecordState
from integrator.engine.history.tables import task_partitions
from tests.connectors.databases import postgres_schema

PROJECT, TASK = "Contacts to Contact", "Contacts"
MIGRATIONS = Path(history_package.__file__).parent / "migrations"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def history_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'history.db'}"
        return
    with postgres_schema("seen") as url:
        yield url


@pytest.fixture
def store(history_url: str) -> Iterator[HistoryStore]:
    history = HistoryStore.open(history_url)
    yield history
    history.close()


def _page(run_id: int, seen: list[str], partition: int | None = 0, task: str = TASK) -> PageCommit:
    return PageCommit(
        run_id, 0, PROJECT, task, Counts(read=len(seen)), partition=partition, seen=seen
    )


def _states(store: HistoryStore, ids: list[str], task: str = TASK) -> None:
    store.records.save_states(PROJECT, task, [RecordState(i, i, []) for i in ids])


def _marks(store: HistoryStore) -> list[tuple[str, str]]:
    with store.engine.connect() as conn:
        query = "SELECT task, source_id FROM partition_seen ORDER BY task, source_id"
        return [(row[0], row[1]) for row in conn.execute(sa.text(query))]


def _unseen(store: HistoryStore, size: int, task: str = TASK) -> list[list[str]]:
    return list(store.partitions.unseen_state_pages(PROJECT, task, size))


def test_the_states_no_page_of_the_plan_saw_are_found_in_pages(store: HistoryStore) -> None:
    run_id = store.log.start_run(PROJECT, [TASK], mode="all-data")
    store.partitions.save_plan(PROJECT, TASK, run_id, "createdon", ["2026-06-01"], None)
    ids = [f"id-{i:02d}" for i in range(12)]
    _states(store, ids)
    _states(store, ids, task="Other")
    store.record_batch(_page(run_id, ["id-01", "id-03", "id-01"]))  # one id twice in a page
    store.record_batch(_page(run_id, ["id-03", "id-05"], partition=1))  # and in a later page
    store.record_batch(_page(run_id, ["id-07"], partition=None))  # not a partition's page
    store.record_batch(_page(run_id, ["id-09"], task="Other"))
    assert _marks(store) == [("Contacts", i) for i in ("id-01", "id-03", "id-05")] + [
        ("Other", "id-09")
    ]
    unseen = [i for i in ids if i not in ("id-01", "id-03", "id-05")]
    assert _unseen(store, 4) == [unseen[:4], unseen[4:8], unseen[8:]]
    assert _unseen(store, 9) == [unseen]
    assert _unseen(store, 100, task="Other") == [[i for i in ids if i != "id-09"]]


def test_the_pages_go_on_after_the_states_of_an_earlier_page_are_removed(
    store: HistoryStore,
) -> None:
    run_id = store.log.start_run(PROJECT, [TASK], mode="all-data")
    store.partitions.save_plan(PROJECT, TASK, run_id, "contactid", ["m"], None)
    _states(store, ["a", "b", "c", "d", "e"])
    store.record_batch(_page(run_id, ["c"]))
    found = []
    for page in store.partitions.unseen_state_pages(PROJECT, TASK, 2):
        found.append(page)
        store.record_batch(PageCommit(run_id, 0, PROJECT, TASK, Counts(), forget=page))
    assert found == [["a", "b"], ["d", "e"]]
    assert list(store.records.state_id_pages(PROJECT, TASK)) == [["c"]]


def test_the_marks_go_with_the_plan_and_a_new_plan_starts_with_none(store: HistoryStore) -> None:
    run_id = store.log.start_run(PROJECT, [TASK], mode="all-data")
    store.partitions.save_plan(PROJECT, TASK, run_id, "contactid", ["m"], None)
    store.record_batch(_page(run_id, ["a", "b"]))
    store.record_batch(_page(run_id, ["z"], task="Other"))
    store.partitions.save_plan(PROJECT, TASK, run_id, "contactid", ["n"], None)
    assert _marks(store) == [("Other", "z")]
    store.record_batch(_page(run_id, ["a"]))
    for number in (0, 1):
        store.partitions.mark_done(PROJECT, TASK, number, run_id)
    store.partitions.finish(PROJECT, TASK, run_id)
    assert _marks(store) == [("Other", "z")]
    assert store.partitions.plan(PROJECT, TASK) == []


def test_a_plan_left_by_the_version_before_the_marks_removes_nothing_it_read(
    history_url: str,
) -> None:
    engine = sa.create_engine(history_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0007_task_partitions")
    engine.dispose()
    old = HistoryStore(sa.create_engine(history_url))  # the tables of 0007, not migrated
    run_id = old.log.start_run(PROJECT, [TASK], mode="all-data")
    with old.engine.begin() as conn:  # the plan as 0007 saved it, one partition done
        conn.execute(
            task_partitions.insert(),
            [
                {"project": PROJECT, "task": TASK, "number": number, "run_id": run_id}
                | {"field": "contactid", "done": number == 0, "updated_at": "2026-01-01T00:00Z"}
                for number in (0, 1)
            ],
        )
    old.records.save_states(PROJECT, TASK, [RecordState(i, i, []) for i in ("a", "b")])
    old.records.save_states(PROJECT, "Done", [RecordState("c", "c", [])])
    old.close()
    store = HistoryStore.open(history_url)
    try:
        assert _marks(store) == [("Contacts", "a"), ("Contacts", "b")]
        assert _unseen(store, 10) == []
        assert _unseen(store, 10, task="Done") == [["c"]]
    finally:
        store.close()
