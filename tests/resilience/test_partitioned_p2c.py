"""The three P2C projects over HTTP with their Sales reads cut into ``createdon`` ranges (the
Dataverse connector's :class:`RangeReader`) end with exactly the CDS and F&O rows of an uncut
run, also after a record is deleted from Sales and a run with all data finds it gone; a run
SIGKILLed mid-way and run again ends the same."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.resilience import harness
from tests.resilience.harness import Dataset, KillAt

DATASET = Dataset("ranges", accounts=300, contacts=1200, random_seed=21)
#: about three ranges of contacts, two of accounts
PARTITION = 450


def _cut(ws: Path, partition_records: int | None) -> Path:
    settings = ws / "integrator.yaml"
    value = "null" if partition_records is None else str(partition_records)
    settings.write_text(settings.read_text() + f"partition_records: {value}\n")
    return ws


def _partitioned_tasks(ws: Path) -> int:
    """Task runs whose pages were committed as a partition's (their resume point moved)."""
    with harness.history_db(ws) as db:
        return int(db.execute("SELECT count(*) FROM task_partitions").fetchone()[0])


def _sales_requests(counts: dict[str, object]) -> int:
    requests = counts["requests"]
    assert isinstance(requests, dict)
    return sum(requests.get("sales", {}).values())


def _delete_a_contact(data_dir: Path) -> None:
    with sqlite3.connect(data_dir / "sales.db") as db:
        db.execute("DELETE FROM contacts WHERE rowid = (SELECT min(rowid) FROM contacts)")


def test_ranged_reads_land_an_uncut_runs_rows(tmp_path: Path) -> None:
    seeded = harness.prepare(DATASET, tmp_path)
    with harness.served(harness.clone(seeded, tmp_path / "ref"), DATASET) as ref:
        ws = _cut(harness.workspace(tmp_path / "ref-ws", ref), None)
        ref.reset_request_counts()
        harness.run(ws)
        uncut = _sales_requests(ref.request_counts())
        expected_first = harness.outputs(ref)
        _delete_a_contact(ref.data_dir)
        harness.run(ws, "--all-data")
        expected_after = harness.outputs(ref)
    assert expected_after != expected_first  # the deleted contact's rows went

    with harness.served(harness.clone(seeded, tmp_path / "cut"), DATASET) as cut:
        ws = _cut(harness.workspace(tmp_path / "cut-ws", cut), PARTITION)
        cut.reset_request_counts()
        first = harness.run(ws)
        counted = cut.request_counts()
        assert harness.outputs(cut) == expected_first
        assert _partitioned_tasks(ws) == 0  # every plan finished
        _delete_a_contact(cut.data_dir)
        harness.run(ws, "--all-data")
        assert harness.outputs(cut) == expected_after
        assert harness.duplicates(harness.outputs(cut)) == {}

    assert [run["status"] for run in first["runs"]] == ["Completed"] * 3
    # cut: per task the count, the earliest and latest createdon, the checkpoint's read and
    # each range's own pages, beside one change-tracking read of the uncut run
    assert _sales_requests(counted) >= uncut + 3 * 3


def test_a_ranged_run_killed_mid_way_then_run_again_lands_the_same_rows(tmp_path: Path) -> None:
    seeded = harness.prepare(DATASET, tmp_path)
    with harness.served(harness.clone(seeded, tmp_path / "ref"), DATASET) as ref:
        harness.run(_cut(harness.workspace(tmp_path / "ref-ws", ref), None))
        expected = harness.outputs(ref)

    with harness.served(harness.clone(seeded, tmp_path / "cut"), DATASET) as cut:
        ws = _cut(harness.workspace(tmp_path / "cut-ws", cut), PARTITION)
        cut.set_faults(latency_ms=20, services=("finops",))
        killed = harness.run_and_kill(ws, cut, KillAt(requests=60), tmp_path / "kill.log")
        assert killed, "the run ended before the kill"
        cut.set_faults()
        left = _partitioned_tasks(ws)
        harness.run(ws)
        result = harness.outputs(cut)

    assert left > 0, "the kill did not land while a plan was unfinished"
    assert harness.duplicates(result) == {}
    assert harness.differences(result, expected) == []
    assert result == expected
