"""``integrator cancel`` from another process stops a running ``integrator run`` between two
batches: the run is recorded Cancelled with what it committed, its process ends normally, and
the next run ends with exactly the CDS and F&O rows of an uninterrupted run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tests.resilience import harness
from tests.resilience.conftest import CLEAN, Reference
from tests.resilience.harness import Dataset

#: the clean dataset in pages of 20 (the contacts task selects 115 records: six batches)
SMALL_PAGES = replace(CLEAN, page_size=20)

#: ``integrator run`` with the engine's batch (normally 5000 selected records) cut to 20, so
#: a dataset small enough for a quick test commits several batches per task; it reaches into
#: integrator.engine.read and fails loudly if the name moved
_SMALL_BATCH_RUN = (
    "import integrator.engine.read as read\n"
    "assert hasattr(read, 'SELECTED_PER_PAGE'), 'the batch size moved; update this test'\n"
    "read.SELECTED_PER_PAGE = 20\n"
    "from integrator.cli.main import main\n"
    "main()\n"
)


def _start_run(ws: Path, log: Path) -> subprocess.Popen[bytes]:
    """``integrator run --workspace WS`` (batches of 20) as a process of its own."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", _SMALL_BATCH_RUN, "run", "--workspace", str(ws)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
        )


def _running_with_a_committed_batch(ws: Path, project: str) -> tuple[int, int] | None:
    """(run id, records read) of ``project``'s Running run once it committed a batch."""
    if not (ws / "history.db").exists():  # connecting would create it
        return None
    conn = harness.history_db(ws)
    try:
        row = conn.execute(
            "SELECT runs.id, SUM(task_runs.read) FROM runs JOIN task_runs"
            " ON task_runs.run_id = runs.id WHERE runs.project = ? AND runs.status = 'Running'"
            " GROUP BY runs.id",
            (project,),
        ).fetchone()
    except Exception:  # the history is not created yet
        return None
    finally:
        conn.close()
    if row is None or not row[1]:
        return None
    return int(row[0]), int(row[1])


def test_cancel_from_another_process_keeps_what_was_committed_and_loses_nothing(
    reference: Callable[[Dataset], Reference], tmp_path: Path
) -> None:
    ref = reference(CLEAN)
    data_dir = harness.clone(ref.data_dir, tmp_path / "sandbox")
    with harness.served(data_dir, SMALL_PAGES) as handle:
        ws = harness.workspace(tmp_path / "ws", handle)
        handle.set_faults(latency_ms=200)  # a batch takes a second or so
        log = tmp_path / "run.log"
        process = _start_run(ws, log)
        try:
            began = time.monotonic()
            found = None
            while found is None:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() - began < 120, "the contacts run never committed"
                time.sleep(0.05)
                found = _running_with_a_committed_batch(ws, harness.CONTACTS)
            run_id, _ = found

            waited = harness.command("cancel", str(run_id), "--workspace", str(ws))
            assert waited.returncode == 0, waited.stderr
            assert f"Asked run {run_id} of {harness.CONTACTS} to stop" in waited.stdout
            assert f"Run {run_id} {harness.CONTACTS}: Cancelled" in waited.stdout, waited.stdout
            again = harness.command("cancel", str(run_id), "--workspace", str(ws))
            assert again.returncode == 0, again.stderr
            assert f"Run {run_id} of {harness.CONTACTS} has already ended: Cancelled" in (
                again.stdout
            )

            assert process.wait(timeout=60) == 0, log.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        printed = log.read_text()
        assert "Cancelled (cancelled by integrator cancel (requested at" in printed

        detail = harness.command("history", "--run", str(run_id), "--workspace", str(ws), "--json")
        cancelled = json.loads(detail.stdout)["runs"][0]
        assert cancelled["status"] == "Cancelled"
        assert cancelled["end_reason"] == "cancelled"
        assert cancelled["cancel_requested_at"] is not None
        inserted = sum(task["counts"]["inserted"] for task in cancelled["tasks"])
        # it stopped between two batches: some committed (kept), not all of the 115 contacts
        assert 0 < inserted < 115, cancelled
        assert all(task["counts"]["errors"] == 0 for task in cancelled["tasks"])
        # the project after it was not started by that command
        projects = [run["project"] for run in harness.history(ws)]
        assert projects == [harness.ACCOUNTS, harness.CONTACTS]

        handle.clear_faults()
        final = harness.run(ws)
        result = harness.outputs(handle)

    assert [run["project"] for run in final["runs"]] == list(harness.PROJECTS)
    assert all(run["status"] == "Completed" for run in final["runs"]), final
    assert harness.duplicates(result) == {}
    assert harness.differences(result, ref.outputs) == []
    assert result == ref.outputs
