"""Partitioned incremental reads over SQL: when more records changed since the task's
checkpoint than ``partition_records``, the read of the changes is cut into watermark ranges
that land exactly what an uncut incremental run lands (a deletion is not removed, as no
incremental read removes one), a run stopped mid-range goes on from its last committed page,
and a run with all data replaces an unfinished plan of changes with a full read's."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from integrator.engine.history import RunStatus
from integrator.engine.history.partitions import Partition
from integrator.engine.run import Engine
from integrator.engine.task import Progress
from integrator.sandbox.stores import SandboxStore
from tests.engine.partitioned_setup import partitioned_engine
from tests.golden.dataset import dump_outputs, load_sales

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
PARTITION = 2


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "sandbox"
    SandboxStore.open(data)
    load_sales(data)
    return data


def _change_every_contact(data_dir: Path, title: str) -> int:
    with sqlite3.connect(data_dir / "sales.db") as conn:
        conn.execute("UPDATE contacts SET jobtitle = ?", (title,))
        conn.execute("DELETE FROM contacts WHERE msdynce_contactnumber = 'CON-01009-EMPLOY'")
        return int(conn.execute("SELECT count(*) FROM contacts").fetchone()[0])


def _plans_seen(engine: Engine) -> list[list[Partition]]:
    """Record the contacts task's plan at each progress report of the engine's next runs."""
    plans: list[list[Partition]] = []

    def look(progress: Progress) -> None:
        if progress.project == CONTACTS and not progress.finished:
            plans.append(engine.history.partitions.plan(CONTACTS, progress.task))

    engine.progress = look
    return plans


def _stop_at_page(count: int) -> Callable[[Progress], None]:
    """A progress callback that interrupts the run at the contacts task's ``count``-th page."""
    pages: list[Progress] = []

    def stop(progress: Progress) -> None:
        if progress.project == CONTACTS and not progress.finished:
            pages.append(progress)
            if len(pages) == count:
                raise KeyboardInterrupt

    return stop


def _loaded(tmp_path: Path, data_dir: Path) -> tuple[Engine, Engine, Path]:
    uncut_data = tmp_path / "uncut-sandbox"
    shutil.copytree(data_dir, uncut_data)
    cut = partitioned_engine(tmp_path / "ws", data_dir, PARTITION)
    uncut = partitioned_engine(tmp_path / "ws-uncut", uncut_data, None)
    for engine in (cut, uncut):
        engine.run([ACCOUNTS, CONTACTS])
    assert dump_outputs(data_dir) == dump_outputs(uncut_data)
    return cut, uncut, uncut_data


def test_many_changes_are_read_in_watermark_ranges_and_land_as_an_uncut_run(
    tmp_path: Path, data_dir: Path
) -> None:
    cut, uncut, uncut_data = _loaded(tmp_path, data_dir)
    loaded = dump_outputs(data_dir)
    for data in (data_dir, uncut_data):
        left = _change_every_contact(data, "Buyer")
    assert left > 2 * PARTITION
    plans = _plans_seen(cut)
    cut_run = cut.run([CONTACTS])[0]
    uncut_run = uncut.run([CONTACTS])[0]
    # the changes were read in ranges of a plan of changes, not of a full read
    assert plans and all(plan and plan[0].reads_changes for plan in plans)
    assert len(plans[0]) > 2
    assert cut_run.status == uncut_run.status
    assert cut_run.tasks[0].counts == uncut_run.tasks[0].counts
    assert cut_run.tasks[0].counts.read > 0
    after = dump_outputs(data_dir)
    assert after == dump_outputs(uncut_data)
    # no incremental read removes the deleted contact: its rows stay, as uncut
    assert len(after["cds"]["contacts"]) == len(loaded["cds"]["contacts"])
    task = cut_run.tasks[0].name
    assert cut.history.partitions.plan(CONTACTS, task) == []
    # the checkpoint stored when the plan finished reads nothing more
    cut.progress = None
    assert cut.run([CONTACTS])[0].tasks[0].counts.read == 0
    cut.close()
    uncut.close()


def test_a_run_stopped_in_a_change_range_goes_on_from_its_last_page(
    tmp_path: Path, data_dir: Path
) -> None:
    cut, uncut, uncut_data = _loaded(tmp_path, data_dir)
    for data in (data_dir, uncut_data):
        _change_every_contact(data, "Buyer")
    cut.progress = _stop_at_page(2)
    with pytest.raises(KeyboardInterrupt):
        cut.run([CONTACTS])
    stopped = cut.history.runs(CONTACTS)[0]
    assert stopped.status == RunStatus.INTERRUPTED
    plan = cut.history.partitions.plan(CONTACTS, stopped.tasks[0].name)
    assert plan[0].reads_changes and plan[0].done and not plan[1].done
    cut.progress = None
    resumed = cut.run([CONTACTS])[0]
    # the resumed run reads only what the stopped one had not committed
    read = uncut.run([CONTACTS])[0].tasks[0].counts.read
    assert 0 < stopped.tasks[0].counts.read < read
    assert stopped.tasks[0].counts.read + resumed.tasks[0].counts.read == read
    assert dump_outputs(data_dir) == dump_outputs(uncut_data)
    cut.close()
    uncut.close()


def test_a_run_with_all_data_replaces_an_unfinished_plan_of_changes(
    tmp_path: Path, data_dir: Path
) -> None:
    cut, uncut, uncut_data = _loaded(tmp_path, data_dir)
    for data in (data_dir, uncut_data):
        _change_every_contact(data, "Buyer")
    cut.progress = _stop_at_page(1)
    with pytest.raises(KeyboardInterrupt):
        cut.run([CONTACTS])
    plans = _plans_seen(cut)
    cut.run([CONTACTS], all_data=True)
    # the full read's own plan, whose finish removes the deleted contact's rows
    assert plans and not any(plan[0].reads_changes for plan in plans if plan)
    uncut.run([CONTACTS], all_data=True)
    after = dump_outputs(data_dir)
    assert after == dump_outputs(uncut_data)
    cut.close()
    uncut.close()
