"""Run statuses as SPEC §7 says, through the engine over the sandbox's SQL stores (no HTTP):
a run with nothing to do is Completed and says what still waits; records failing again the same
way make a Warning; a failed task is Error and the tasks after it Not run; an interrupted run is
recorded Interrupted at once; a mapping change is named with the ``--all-data`` hint."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from integrator.config.workspace import init_workspace, load_workspace
from integrator.connectors.base import Connector, RecordResult
from integrator.engine.connections import ConnectorPool
from integrator.engine.history import HistoryStore, RunStatus
from integrator.engine.run import Engine
from integrator.errors import RetriableError
from integrator.sandbox.sqlaccess import sql_connectors
from integrator.sandbox.stores import SandboxStore
from tests.golden.dataset import load_sales

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"


class _Refusing:
    """A connector whose upserts into ``entity`` fail as a whole (the service is down)."""

    def __init__(self, inner: Connector, entity: str) -> None:
        self.inner = inner
        self.entity = entity
        self.capabilities = inner.capabilities

    def upsert(
        self, entity: str, records: Sequence[dict[str, Any]], *, key: Sequence[str]
    ) -> list[RecordResult]:
        if entity == self.entity:
            raise RetriableError(f"POST {entity}: 503 Service Unavailable", status=503)
        return self.inner.upsert(entity, records, key=key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "sandbox"
    SandboxStore.open(data)
    load_sales(data)
    return data


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return init_workspace(tmp_path / "ws", "http://127.0.0.1:9")


def _engine(root: Path, data_dir: Path, wrap: Mapping[str, str] | None = None) -> Engine:
    connectors: dict[str, Connector] = dict(sql_connectors(data_dir))
    for system, entity in (wrap or {}).items():
        connectors[system] = _Refusing(connectors[system], entity)  # type: ignore[assignment]
    workspace = load_workspace(root)
    pool = ConnectorPool(workspace, factory=lambda system, _c, _w: connectors[system])
    return Engine(workspace, connectors=pool)


@pytest.fixture
def engine(root: Path, data_dir: Path) -> Iterator[Engine]:
    engine = _engine(root, data_dir)
    yield engine
    engine.close()


def test_after_a_warning_run_an_unchanged_run_is_completed_and_says_what_waits(
    engine: Engine,
) -> None:
    first = {run.project: run for run in engine.run()}
    assert first[CONTACTS].status == RunStatus.WARNING
    again = {run.project: run for run in engine.run()}
    contacts = again[CONTACTS]
    assert contacts.status == RunStatus.COMPLETED  # was Error: the failures were re-sent
    assert contacts.tasks[0].counts.as_dict() == {
        "read": 0,
        "inserted": 0,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
    }
    failed = first[CONTACTS].tasks[0].counts.errors
    assert contacts.message is not None
    assert (
        f"{failed} record(s) still wait for a fix (failing since run {first[CONTACTS].id})"
        in contacts.message
    )
    # retried now: they fail the same way again, still failing, not new errors: Warning
    now = {run.project: run for run in engine.run(retry_failed=True)}[CONTACTS]
    counts = now.tasks[0].counts
    assert counts.read == counts.errors == counts.still_failing == failed
    assert now.status == RunStatus.WARNING
    assert all(error.still_failing for error in now.tasks[0].errors)
    rerun = engine.rerun(first[CONTACTS].id)
    assert rerun.status == RunStatus.WARNING and rerun.tasks[0].counts.still_failing == failed


def test_a_failed_task_is_error_and_the_tasks_after_it_are_not_run(
    root: Path, data_dir: Path
) -> None:
    project = root / "projects" / f"{ACCOUNTS}.yaml"
    text = project.read_text(encoding="utf-8")
    head, tasks = text.split("tasks:\n", 1)
    project.write_text(
        head + "tasks:\n" + tasks + tasks.replace("- name: Accounts", "- name: AccountsAgain"),
        encoding="utf-8",
    )
    engine = _engine(root, data_dir, {"finops": "CustomersV2"})
    try:
        [run] = engine.run([ACCOUNTS])
    finally:
        engine.close()
    assert run.status == RunStatus.ERROR
    assert [(t.name, t.status) for t in run.tasks] == [
        ("Accounts", RunStatus.ERROR),
        ("AccountsAgain", RunStatus.NOT_RUN),
    ]
    assert run.message == (
        f"run {run.id}, task Accounts: stage write failed: "
        "POST CustomersV2: 503 Service Unavailable"
    )


def test_a_mapping_change_is_named_with_the_all_data_hint(
    engine: Engine, root: Path, data_dir: Path
) -> None:
    first = {run.project: run for run in engine.run()}
    engine.close()
    project = root / "projects" / f"{CONTACTS}.yaml"
    text = project.read_text(encoding="utf-8")
    project.write_text(
        text.replace(
            "{destination: JobTitle, source: jobtitle}",
            "{destination: JobTitle, source: jobtitle, transforms: [Truncate]}",
        ),
        encoding="utf-8",
    )
    edited = _engine(root, data_dir)
    try:
        runs = {run.project: run for run in edited.run()}
        contacts = runs[CONTACTS]
        assert contacts.message is not None
        assert f"the mapping changed since run {first[CONTACTS].id}" in contacts.message
        assert "--all-data" in contacts.message
        # the failed records are retried at once under the new mapping
        assert contacts.tasks[0].counts.read == first[CONTACTS].tasks[0].counts.errors
        assert runs[ACCOUNTS].message is None or "mapping" not in runs[ACCOUNTS].message
        full = {run.project: run for run in edited.run([CONTACTS], all_data=True)}[CONTACTS]
        assert full.message is None or "mapping" not in full.message
        after = {run.project: run for run in edited.run([CONTACTS])}[CONTACTS]
        assert after.message is None or "mapping" not in after.message
    finally:
        edited.close()


INTERRUPT = textwrap.dedent(
    """
    import os, signal, sys
    from integrator.config.workspace import load_workspace
    from integrator.engine.connections import ConnectorPool
    from integrator.engine.history import store
    from integrator.engine.run import Engine
    from integrator.sandbox.sqlaccess import sql_connectors

    def stop(signum, frame):  # as the CLI turns SIGTERM into an interrupt
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    original = store.HistoryStore.record_batch

    def record_batch(self, batch):
        original(self, batch)  # the page is committed, then the signal comes
        if batch.counts.read > 0:
            os.kill(os.getpid(), getattr(signal, sys.argv[3]))

    store.HistoryStore.record_batch = record_batch
    connectors = sql_connectors(sys.argv[2])
    workspace = load_workspace(sys.argv[1])
    pool = ConnectorPool(workspace, factory=lambda system, _c, _w: connectors[system])
    try:
        Engine(workspace, connectors=pool).run([sys.argv[4]])
    except KeyboardInterrupt as interrupt:
        print(interrupt, file=sys.stderr)
        sys.exit(130)
    sys.exit(0)
    """
)


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_an_interrupted_run_is_recorded_interrupted_at_once(
    root: Path, data_dir: Path, signame: str
) -> None:
    stopped = subprocess.run(
        [sys.executable, "-c", INTERRUPT, str(root), str(data_dir), signame, ACCOUNTS],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.strip().splitlines()[-1:] == [
        f"interrupted: run 1 of {ACCOUNTS} is recorded Interrupted; what it committed stays, "
        "and the next run goes on from there"
    ], stopped.stderr
    history = HistoryStore.open(f"sqlite:///{root / 'history.db'}")
    try:
        [run] = history.runs()
    finally:
        history.close()
    # recorded by the run itself, before any next run could mark it
    assert run.status == RunStatus.INTERRUPTED and run.finished_at is not None
    assert run.message is not None and "interrupted" in run.message
    assert run.tasks[0].status == RunStatus.INTERRUPTED
    assert run.tasks[0].counts.read > 0  # what was committed stays
