"""A run killed after it wrote a page to CDS and F&O but before it committed the page's history
and record states: whatever Sales does next, the next run must end as a fresh full sync.

The kill is placed exactly: the run is a process of its own that SIGKILLs itself when the
engine calls ``HistoryStore.record_batch`` to commit the task's page (its writes for the page
are done, its commit not yet made; the keys it wrote under were written ahead).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from integrator.config.workspace import load_workspace
from integrator.engine.history import RunStatus
from integrator.engine.run import Engine
from integrator.sandbox.testing import SandboxHandle
from tests.resilience import harness
from tests.resilience.harness import CONTACTS, Dataset
from tests.resilience.test_property import fresh_sync

SMALL = Dataset("write-commit", accounts=6, contacts=30, random_seed=9, page_size=50)

KILL_BEFORE_COMMIT = textwrap.dedent(
    """
    import os, signal, sys
    from integrator.config.workspace import load_workspace
    from integrator.engine.history import store
    from integrator.engine.run import Engine

    def record_batch(self, batch):
        # the page's own commit (the write-ahead of its keys is saved apart, before the writes)
        if batch.task == sys.argv[2] and batch.counts.read > 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, batch)

    original = store.HistoryStore.record_batch
    store.HistoryStore.record_batch = record_batch
    Engine(load_workspace(sys.argv[1])).run([sys.argv[3]])
    """
)


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[tuple[SandboxHandle, Path]]:
    seeded = harness.prepare(SMALL, tmp_path)
    with harness.served(harness.clone(seeded, tmp_path / "sandbox"), SMALL) as handle:
        ws = harness.workspace(tmp_path / "ws", handle)
        engine = Engine(load_workspace(ws))
        try:
            assert all(run.status == RunStatus.COMPLETED for run in engine.run())
        finally:
            engine.close()
        yield handle, ws


def _move(handle: SandboxHandle, contact: str, account: str) -> None:
    with harness.sales_db(handle.data_dir) as conn:
        conn.execute(
            "UPDATE contacts SET parentcustomerid = ?, parentcustomeridtype = 'account'"
            " WHERE contactid = ?",
            (account, contact),
        )


def _killed_before_commit(ws: Path, task: str, project: str) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", KILL_BEFORE_COMMIT, str(ws), task, project],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr


def test_a_contact_moved_twice_around_a_kill_leaves_no_stale_contact_person(
    synced: tuple[SandboxHandle, Path], tmp_path: Path
) -> None:
    handle, ws = synced
    with harness.sales_db(handle.data_dir) as conn:
        contact, first = conn.execute(
            "SELECT contactid, parentcustomerid FROM contacts WHERE msdynce_iscompanyanaccount = 1"
            " AND msdynce_isactivecustomer = 0 ORDER BY rowid LIMIT 1"
        ).fetchone()
        second, third = (
            row[0]
            for row in conn.execute(
                "SELECT accountid FROM accounts WHERE accountid <> ? ORDER BY rowid LIMIT 2",
                (first,),
            )
        )

    _move(handle, contact, second)
    _killed_before_commit(ws, "Contacts", CONTACTS)  # wrote the new contact person, no state
    _move(handle, contact, third)
    engine = Engine(load_workspace(ws))
    try:
        engine.run()
    finally:
        engine.close()

    result = harness.outputs(handle)
    assert harness.duplicates(result) == {}
    assert harness.differences(result, fresh_sync(handle.data_dir / "sales.db", tmp_path)) == []


@pytest.mark.parametrize(
    ("task", "project"),
    [
        ("Accounts", harness.ACCOUNTS),
        ("Contacts", harness.CONTACTS),
        ("ContactToCustomer", harness.CUSTOMERS),
    ],
)
def test_a_run_killed_before_its_commit_is_made_good_by_the_next(
    synced: tuple[SandboxHandle, Path], tmp_path: Path, task: str, project: str
) -> None:
    handle, ws = synced
    with harness.sales_db(handle.data_dir) as conn:
        conn.execute("UPDATE accounts SET telephone1 = '+1 555 0100'")
        conn.execute("UPDATE contacts SET jobtitle = 'Buyer'")
        contact, account = conn.execute(
            "SELECT c.contactid, a.accountid FROM contacts c, accounts a"
            " WHERE c.msdynce_iscompanyanaccount = 1 AND c.msdynce_isactivecustomer = 0"
            " AND a.accountid <> c.parentcustomerid ORDER BY c.rowid, a.rowid LIMIT 1"
        ).fetchone()
    _move(handle, contact, account)

    _killed_before_commit(ws, task, project)
    listed = harness.history(ws)
    assert listed[-1]["status"] == "Running"  # nothing closed it: it was killed

    engine = Engine(load_workspace(ws))
    try:
        runs = engine.run()
    finally:
        engine.close()
    assert all(run.status == RunStatus.COMPLETED for run in runs)
    assert harness.history(ws)[len(listed) - 1]["status"] == "Interrupted"
    result = harness.outputs(handle)
    assert harness.duplicates(result) == {}
    assert harness.differences(result, fresh_sync(handle.data_dir / "sales.db", tmp_path)) == []
