"""Partition plans in a PostgreSQL history (the one distributed workers share): a partitioned
run lands the golden rows and leaves no seen marks, a contact deleted before a stopped run is
removed by the run that ends the plan, and of two workers finishing the last two partitions at once
exactly one is told the task's partitions are all done."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.connections import ConnectorPool
from integrator.engine.history import HistoryStore
from integrator.engine.run import Engine
from integrator.engine.task import Progress
from integrator.sandbox.sqlaccess import sql_connectors
from integrator.sandbox.stores import SandboxStore
from tests.connectors.databases import postgres_schema
from tests.golden.dataset import check_golden, dump_outputs, load_sales

pytestmark = pytest.mark.postgres

CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"


@pytest.fixture
def history_url() -> Iterator[str]:
    with postgres_schema("partitions") as url:
        yield url


def _engine(tmp_path: Path, data: Path, history_url: str) -> Engine:
    root = init_workspace(tmp_path / "ws", "http://127.0.0.1:9")
    settings = root / "integrator.yaml"
    text = settings.read_text().replace("database_url: null", f'database_url: "{history_url}"')
    settings.write_text(text + "partition_records: 3\n")
    workspace = load_workspace(root)
    connectors = sql_connectors(data)
    pool = ConnectorPool(workspace, factory=lambda system, _c, _w: connectors[system])
    return Engine(workspace, connectors=pool)


def _seen_marks(engine: Engine) -> int:
    with engine.history.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM partition_seen")).scalar_one())


def test_a_partitioned_run_with_a_postgresql_history_lands_the_golden_rows(
    tmp_path: Path, history_url: str
) -> None:
    data = tmp_path / "sandbox"
    SandboxStore.open(data)
    load_sales(data)
    engine = _engine(tmp_path, data, history_url)
    summaries = engine.run()
    marks = _seen_marks(engine)
    engine.close()
    check_golden("rows", dump_outputs(data))
    check_golden("counts", {run.project: run.tasks[0].counts.as_dict() for run in summaries})
    assert marks == 0


def test_a_contact_gone_before_a_stopped_run_is_removed_when_the_plan_ends(
    tmp_path: Path, history_url: str
) -> None:
    data = tmp_path / "sandbox"
    SandboxStore.open(data)
    load_sales(data)
    engine = _engine(tmp_path, data, history_url)
    engine.run()
    loaded = dump_outputs(data)
    with sqlite3.connect(data / "sales.db") as conn:  # in the first partition's range
        conn.execute("DELETE FROM contacts WHERE msdynce_contactnumber = 'CON-01001-DECIDR'")
    pages: list[Progress] = []

    def stop_in_second_partition(progress: Progress) -> None:
        if not progress.finished:
            pages.append(progress)
            if len(pages) == 2:
                raise KeyboardInterrupt

    engine.progress = stop_in_second_partition
    with pytest.raises(KeyboardInterrupt):
        engine.run([CONTACTS], all_data=True)
    assert _seen_marks(engine) > 0
    assert dump_outputs(data) == loaded
    engine.progress = None
    engine.run([CONTACTS])
    marks = _seen_marks(engine)
    engine.close()
    contacts = [row["ContactId"] for row in dump_outputs(data)["cds"]["contacts"]]
    assert contacts == ["CON-01002-INFLUE", "CON-01009-EMPLOY"]
    assert marks == 0


def test_of_two_workers_finishing_the_last_partitions_exactly_one_sees_none_left(
    history_url: str,
) -> None:
    stores = [HistoryStore.open(history_url) for _ in range(2)]
    try:
        for attempt in range(20):
            task = f"task-{attempt}"
            stores[0].partitions.save_plan("p", task, 1, "id", [10], None)
            lefts: list[int] = []
            start = threading.Barrier(2)
            threads = [
                threading.Thread(target=_finish, args=(store, task, number, start, lefts))
                for number, store in enumerate(stores)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(lefts) == [0, 1]
    finally:
        for store in stores:
            store.close()


def _finish(
    store: HistoryStore, task: str, number: int, start: threading.Barrier, lefts: list[int]
) -> None:
    start.wait()
    lefts.append(store.partitions.mark_done("p", task, number, 1))
