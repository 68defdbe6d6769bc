"""Partitioned full reads over SQL connections to the sandbox's stores: the golden dataset cut
into key ranges of 3 records lands exactly as an uncut run leaves it, a run stopped
mid-partition resumes from the partition's last committed page, a record deleted from the
source is removed once, after every range is read (also when an earlier, stopped run read the
range it was in), and the incremental run after the partitioned load reads only what changed.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import integrator.engine.task as task_module
from integrator.engine.history import RunStatus
from integrator.engine.run import Engine
from integrator.engine.task import Progress
from integrator.sandbox.stores import SandboxStore
from tests.engine.partitioned_setup import partitioned_engine
from tests.golden.dataset import check_golden, dump_outputs, load_sales

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
PARTITION = 3


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "sandbox"
    SandboxStore.open(data)
    load_sales(data)
    return data


def _engine(root_dir: Path, data_dir: Path, partition_records: int | None) -> Engine:
    return partitioned_engine(root_dir, data_dir, partition_records)


@pytest.fixture
def engine(tmp_path: Path, data_dir: Path) -> Iterator[Engine]:
    engine = _engine(tmp_path / "ws", data_dir, PARTITION)
    yield engine
    engine.close()


def _contacts_in_sales(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "sales.db") as conn:
        return int(conn.execute("SELECT count(*) FROM contacts").fetchone()[0])


def test_a_partitioned_run_lands_the_golden_data_with_the_same_counts(
    engine: Engine, data_dir: Path
) -> None:
    assert _contacts_in_sales(data_dir) > 3 * PARTITION  # so the contacts are cut in ranges
    summaries = engine.run()
    check_golden("rows", dump_outputs(data_dir))
    check_golden("counts", {run.project: run.tasks[0].counts.as_dict() for run in summaries})
    assert [s.status for s in summaries] == [RunStatus.WARNING] * 3
    for run in summaries:  # every plan finished and went; the tasks have their checkpoints
        task = run.tasks[0].name
        assert engine.history.partitions.plan(run.project, task) == []
        assert engine.history.records.checkpoint(run.project, task) is not None


def test_a_run_stopped_mid_partition_resumes_from_its_last_committed_page(
    tmp_path: Path, data_dir: Path
) -> None:
    clean_data = tmp_path / "clean-sandbox"
    shutil.copytree(data_dir, clean_data)
    clean = _engine(tmp_path / "ws-clean", clean_data, None)
    clean_read = clean.run()[1].tasks[0].counts.read
    clean.close()
    pages: list[Progress] = []

    def stop_in_second_partition(progress: Progress) -> None:
        if progress.project == CONTACTS and not progress.finished:
            pages.append(progress)
            if len(pages) == 2:
                raise KeyboardInterrupt

    engine = _engine(tmp_path / "ws", data_dir, PARTITION)
    engine.run([ACCOUNTS])
    engine.progress = stop_in_second_partition
    with pytest.raises(KeyboardInterrupt):
        engine.run([CONTACTS])
    plan = engine.history.partitions.plan(CONTACTS, engine.history.runs(CONTACTS)[0].tasks[0].name)
    assert plan[0].done and not plan[1].done and plan[1].resume is not None
    stopped = engine.history.runs(CONTACTS)[0]
    assert stopped.status == RunStatus.INTERRUPTED
    engine.progress = None
    resumed = engine.run()
    contacts = next(run for run in resumed if run.project == CONTACTS)
    # the resumed run reads only what the stopped one had not committed
    assert contacts.tasks[0].counts.read + stopped.tasks[0].counts.read == clean_read
    assert 0 < stopped.tasks[0].counts.read < clean_read
    check_golden("rows", dump_outputs(data_dir))
    engine.close()


def test_a_deleted_record_and_a_change_land_as_an_uncut_run_leaves_them(
    tmp_path: Path, data_dir: Path
) -> None:
    uncut_data = tmp_path / "uncut-sandbox"
    shutil.copytree(data_dir, uncut_data)
    cut = _engine(tmp_path / "ws", data_dir, PARTITION)
    uncut = _engine(tmp_path / "ws-uncut", uncut_data, None)
    for engine in (cut, uncut):
        engine.run()
    loaded = dump_outputs(data_dir)
    assert loaded == dump_outputs(uncut_data)
    for data in (data_dir, uncut_data):
        with sqlite3.connect(data / "sales.db") as conn:
            conn.execute("DELETE FROM contacts WHERE msdynce_contactnumber = 'CON-01009-EMPLOY'")
            conn.execute(
                "UPDATE contacts SET jobtitle = 'CEO' "
                "WHERE msdynce_contactnumber = 'CON-01001-DECIDR'"
            )
    # the incremental run after the partitioned load reads the one change only
    changed = {run.project: run for run in cut.run()}
    assert changed[CONTACTS].tasks[0].counts.read == 1
    assert changed[CONTACTS].tasks[0].counts.updated == 1
    uncut.run()
    # a full read removes the deleted contact's rows, partition by partition
    for engine in (cut, uncut):
        engine.run(all_data=True)
    after = dump_outputs(data_dir)
    assert after == dump_outputs(uncut_data)
    assert len(after["cds"]["contacts"]) == len(loaded["cds"]["contacts"]) - 1
    cut.close()
    uncut.close()


def test_partitions_run_out_of_order_by_two_engines_finish_as_one_run(
    tmp_path: Path, data_dir: Path
) -> None:
    from integrator.engine.partitioned import PartitionJobs

    clean_data = tmp_path / "clean-sandbox"
    shutil.copytree(data_dir, clean_data)
    clean = _engine(tmp_path / "ws-clean", clean_data, None)
    expected = clean.run([ACCOUNTS])[0].tasks[0].counts
    clean.close()
    first = _engine(tmp_path / "ws", data_dir, PARTITION)
    second = Engine(first.workspace, connectors=first.connectors)
    runlog = first.history.log
    tasks = [task.name for task in first.workspace.project(ACCOUNTS).tasks]
    run_id = runlog.start_run(ACCOUNTS, tasks, mode="incremental")
    runlog.start_task(run_id, 0)
    partitions = PartitionJobs(first).plan(run_id, 0)
    assert len(partitions) > 1
    lefts = [
        PartitionJobs(worker).run(run_id, 0, partition)
        for worker, partition in zip(
            [second, first] * len(partitions), reversed(partitions), strict=False
        )
    ]
    assert lefts == list(range(len(partitions) - 1, -1, -1))
    assert PartitionJobs(second).run(run_id, 0, partitions[0]) == 0  # done: nothing again
    PartitionJobs(first).finish(run_id, 0)
    runlog.finish_task(run_id, 0)
    runlog.finish_run(run_id)
    summary = first.history.run(run_id)
    assert summary is not None and summary.tasks[0].counts == expected
    first.run()  # the other two projects, as integrator run would go on
    check_golden("rows", dump_outputs(data_dir))
    second.close()
    first.close()


def _seen_marks(engine: Engine) -> int:
    with engine.history.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM partition_seen")).scalar_one())


def _delete_contact(data_dir: Path, number: str) -> None:
    with sqlite3.connect(data_dir / "sales.db") as conn:
        conn.execute("DELETE FROM contacts WHERE msdynce_contactnumber = ?", (number,))


def _removals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "stale rows" in r.getMessage()]


def test_a_record_deleted_between_two_partitioned_full_reads_is_removed_once(
    tmp_path: Path, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    uncut_data = tmp_path / "uncut-sandbox"
    shutil.copytree(data_dir, uncut_data)
    cut = _engine(tmp_path / "ws", data_dir, PARTITION)
    uncut = _engine(tmp_path / "ws-uncut", uncut_data, None)
    for engine in (cut, uncut):
        engine.run([ACCOUNTS, CONTACTS])
    loaded = dump_outputs(data_dir)
    for data in (data_dir, uncut_data):
        _delete_contact(data, "CON-01009-EMPLOY")
    uncut_counts = uncut.run([CONTACTS], all_data=True)[0].tasks[0].counts
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="integrator.engine.task"):
        cut_run = cut.run([CONTACTS], all_data=True)[0]
    # one removal, of the deleted contact's CDS and F&O rows, not one per partition
    assert _removals(caplog) == [f"{CONTACTS} / {cut_run.tasks[0].name}: removed 2 stale rows"]
    assert cut_run.tasks[0].counts == uncut_counts
    after = dump_outputs(data_dir)
    assert after == dump_outputs(uncut_data)
    assert len(after["cds"]["contacts"]) == len(loaded["cds"]["contacts"]) - 1
    assert _seen_marks(cut) == 0
    assert cut.history.partitions.plan(CONTACTS, cut_run.tasks[0].name) == []
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="integrator.engine.task"):
        cut.run([CONTACTS], all_data=True)  # nothing is gone any more: nothing removed again
    assert _removals(caplog) == []
    assert dump_outputs(data_dir) == after
    cut.close()
    uncut.close()


def test_a_record_gone_before_a_stopped_run_is_removed_by_the_run_that_ends_the_plan(
    tmp_path: Path, data_dir: Path
) -> None:
    uncut_data = tmp_path / "uncut-sandbox"
    shutil.copytree(data_dir, uncut_data)
    cut = _engine(tmp_path / "ws", data_dir, PARTITION)
    uncut = _engine(tmp_path / "ws-uncut", uncut_data, None)
    for engine in (cut, uncut):
        engine.run([ACCOUNTS, CONTACTS])
    loaded = dump_outputs(data_dir)
    for data in (data_dir, uncut_data):  # a low contact id: in the first partition
        _delete_contact(data, "CON-01001-DECIDR")
    uncut_read = uncut.run([CONTACTS], all_data=True)[0].tasks[0].counts.read
    pages: list[Progress] = []

    def stop_in_second_partition(progress: Progress) -> None:
        if not progress.finished:
            pages.append(progress)
            if len(pages) == 2:
                raise KeyboardInterrupt

    cut.progress = stop_in_second_partition
    with pytest.raises(KeyboardInterrupt):
        cut.run([CONTACTS], all_data=True)
    stopped = cut.history.runs(CONTACTS)[0]
    task = stopped.tasks[0].name
    plan = cut.history.partitions.plan(CONTACTS, task)
    assert plan[0].done and not plan[1].done
    assert plan[0].upper > "00000000-0000-0000-0000-00000000c002"
    # the first partition did not see the deleted contact; its rows wait for the plan's end
    assert dump_outputs(data_dir) == loaded
    cut.progress = None
    resumed = cut.run([CONTACTS])[0]
    # the resumed run read only the partitions not done, yet removed the contact the first
    # partition missed, and nothing the first partition saw in the stopped run
    assert 0 < stopped.tasks[0].counts.read < uncut_read
    assert stopped.tasks[0].counts.read + resumed.tasks[0].counts.read == uncut_read
    after = dump_outputs(data_dir)
    assert after == dump_outputs(uncut_data)
    assert len(after["cds"]["contacts"]) == len(loaded["cds"]["contacts"]) - 1
    # of the first partition's range, read by the stopped run only
    assert "CON-01002-INFLUE" in [row["ContactId"] for row in after["cds"]["contacts"]]
    assert cut.history.partitions.plan(CONTACTS, task) == []
    assert _seen_marks(cut) == 0
    cut.close()
    uncut.close()


def test_a_run_stopped_during_the_removals_leaves_the_rest_to_the_next_run(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(task_module, "_GONE_PER_BATCH", 1)  # one removal page per record
    uncut_data = tmp_path / "uncut-sandbox"
    shutil.copytree(data_dir, uncut_data)
    cut = _engine(tmp_path / "ws", data_dir, PARTITION)
    uncut = _engine(tmp_path / "ws-uncut", uncut_data, None)
    for engine in (cut, uncut):
        engine.run([ACCOUNTS, CONTACTS])
    loaded = dump_outputs(data_dir)
    for data in (data_dir, uncut_data):
        _delete_contact(data, "CON-01001-DECIDR")
        _delete_contact(data, "CON-01009-EMPLOY")
    uncut.run([CONTACTS], all_data=True)
    partitions = cut.history.partitions
    task = cut.workspace.project(CONTACTS).tasks[0].name

    def stop_at_the_first_removal(progress: Progress) -> None:
        # every range read (a plan with none left): the page is a removal page
        plan = partitions.plan(CONTACTS, task)
        if not progress.finished and plan and partitions.left(CONTACTS, task) == 0:
            raise KeyboardInterrupt

    cut.progress = stop_at_the_first_removal
    with pytest.raises(KeyboardInterrupt):
        cut.run([CONTACTS], all_data=True)
    assert all(p.done for p in partitions.plan(CONTACTS, task))
    assert _seen_marks(cut) > 0
    stopped = dump_outputs(data_dir)
    assert len(stopped["cds"]["contacts"]) == len(loaded["cds"]["contacts"]) - 1
    cut.progress = None
    resumed = cut.run([CONTACTS])[0]
    assert resumed.tasks[0].counts.read == 0  # every range was read: the removals only
    after = dump_outputs(data_dir)
    assert after == dump_outputs(uncut_data)
    assert len(after["cds"]["contacts"]) == len(loaded["cds"]["contacts"]) - 2
    assert partitions.plan(CONTACTS, task) == []
    assert _seen_marks(cut) == 0
    cut.close()
    uncut.close()
