"""A partitioned run killed (SIGKILL) mid-partition, then run again, ends with exactly the CDS
and F&O rows of an uninterrupted, uncut run; the run after the kill goes on from the
partition's last committed page (the two runs read what one clean run reads, no more).

The runs are real processes of their own over SQL connections to the sandbox's stores (the
connectors that cut a full read into key ranges); each committed page is slowed down so the
kill can land while a partition after the first has committed pages and is not done.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.connections import ConnectorPool
from integrator.engine.run import Engine
from integrator.sandbox.sqlaccess import sql_connectors
from tests.golden.dataset import dump_outputs
from tests.resilience import harness
from tests.resilience.conftest import CLEAN

PARTITION = 25
#: the child: run the workspace over SQL connections, each committed page slowed by argv[3] s
CHILD = """
import sys, time
from pathlib import Path
import integrator.engine.read as read
read.SELECTED_PER_PAGE = 10  # several committed pages per partition
from integrator.config.workspace import load_workspace
from integrator.engine.connections import ConnectorPool
from integrator.engine.run import Engine
from integrator.sandbox.sqlaccess import sql_connectors
connectors = sql_connectors(sys.argv[2])
workspace = load_workspace(Path(sys.argv[1]))
pool = ConnectorPool(workspace, factory=lambda system, _c, _w: connectors[system])
pause = float(sys.argv[3])
engine = Engine(workspace, connectors=pool, progress=lambda _p: time.sleep(pause))
engine.run()
engine.close()
"""


def _workspace(root: Path, partition_records: int | None) -> Path:
    ws = init_workspace(root, "http://127.0.0.1:9")
    value = "null" if partition_records is None else str(partition_records)
    settings = ws / "integrator.yaml"
    settings.write_text(settings.read_text() + f"partition_records: {value}\n")
    return ws


def _child(ws: Path, data: Path, pause: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ws), str(data), str(pause)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def _mid_partition(ws: Path) -> tuple[str, str] | None:
    """The project and task of an early partition (not the first, not the last) of the
    contacts with committed pages, not done."""
    if not (ws / "history.db").exists():
        return None
    conn = harness.history_db(ws)
    try:
        row = conn.execute(
            "SELECT project, task FROM task_partitions"
            " WHERE project = ? AND number BETWEEN 1 AND 5 AND resume IS NOT NULL AND NOT done",
            (harness.CONTACTS,),
        ).fetchone()
    except Exception:  # the history is still being created
        return None
    finally:
        conn.close()
    return None if row is None else (row[0], row[1])


def _reads(ws: Path, project: str) -> list[tuple[str, int]]:
    """Each run of ``project`` as ``integrator history --json`` shows it: status and read."""
    return [
        (run["status"], run["tasks"][0]["counts"]["read"])
        for run in harness.history(ws)
        if run["project"] == project
    ]


def test_a_partitioned_run_killed_mid_partition_resumes_and_ends_as_a_clean_run(
    tmp_path: Path,
) -> None:
    seeded = harness.prepare(CLEAN, tmp_path)
    reference_data = harness.clone(seeded, tmp_path / "reference")
    trial_data = harness.clone(seeded, tmp_path / "trial")
    reference_ws = _workspace(tmp_path / "ws-reference", None)
    workspace = load_workspace(reference_ws)
    connectors = sql_connectors(reference_data)
    pool = ConnectorPool(workspace, factory=lambda system, _c, _w: connectors[system])
    reference = Engine(workspace, connectors=pool)
    clean = {run.project: run.tasks[0].counts.read for run in reference.run()}
    reference.close()

    ws = _workspace(tmp_path / "ws", PARTITION)
    process = _child(ws, trial_data, 0.05)
    began, killed_in = time.monotonic(), None
    try:
        while process.poll() is None and killed_in is None:
            killed_in = _mid_partition(ws)
            if killed_in is not None:
                process.send_signal(signal.SIGKILL)
            elif time.monotonic() - began > 120:
                raise AssertionError("the run never reached a second partition")
            time.sleep(0.01)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert killed_in is not None, "the run ended before it could be killed mid-partition"
    assert process.returncode == -signal.SIGKILL

    again = _child(ws, trial_data, 0.0)
    _, stderr = again.communicate(timeout=240)
    assert again.returncode == 0, stderr.decode()
    result = dump_outputs(trial_data)
    assert harness.duplicates(result) == {}
    assert harness.differences(result, dump_outputs(reference_data)) == []
    project = killed_in[0]
    (killed_status, killed), (resumed_status, resumed) = _reads(ws, project)
    assert (killed_status, resumed_status) == ("Interrupted", "Completed")
    assert 0 < killed < clean[project]
    assert killed + resumed == clean[project]
