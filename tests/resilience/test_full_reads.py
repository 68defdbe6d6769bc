"""A full read (``--all-data``, or the fallback when the change-tracking token has expired)
reports no deletions; records deleted before it must still leave CDS and F&O.

(Found by the property test: a contact deleted in Sales and then an ``--all-data`` run left its
customer in CDS and F&O for good, since the next delta link starts after the deletion.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from integrator.config.workspace import load_workspace
from integrator.engine.history import RunStatus
from integrator.engine.run import Engine
from integrator.sandbox.testing import SandboxHandle
from tests.resilience import harness
from tests.resilience.harness import Dataset
from tests.resilience.test_property import fresh_sync

SMALL = Dataset("full-reads", accounts=5, contacts=30, random_seed=5, page_size=7)


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[tuple[SandboxHandle, Engine]]:
    seeded = harness.prepare(SMALL, tmp_path)
    with harness.served(harness.clone(seeded, tmp_path / "sandbox"), SMALL) as handle:
        engine = Engine(load_workspace(harness.workspace(tmp_path / "ws", handle)))
        try:
            assert all(run.status == RunStatus.COMPLETED for run in engine.run())
            yield handle, engine
        finally:
            engine.close()


def _delete_a_customer_and_a_contact_person(handle: SandboxHandle) -> tuple[str, str]:
    with harness.sales_db(handle.data_dir) as conn:
        customer, contact_person = (
            conn.execute(
                "SELECT msdynce_contactnumber FROM contacts WHERE msdynce_isactivecustomer = ?"
                " ORDER BY rowid LIMIT 1",
                (flag,),
            ).fetchone()[0]
            for flag in (1, 0)
        )
        conn.execute(
            "DELETE FROM contacts WHERE msdynce_contactnumber IN (?, ?)",
            (customer, contact_person),
        )
    return customer, contact_person


def _downstream_keys(handle: SandboxHandle) -> set[str]:
    result = harness.outputs(handle)
    return {
        *(row["AccountId"] for row in result["cds"]["accounts"]),
        *(row["ContactId"] for row in result["cds"]["contacts"]),
        *(row["CustomerAccount"] for row in result["finops"]["CustomersV2"]),
        *(row["ContactPersonPartyNumber"] for row in result["finops"]["CDSContactPersons"]),
    }


def test_records_deleted_before_an_all_data_run_are_removed(
    synced: tuple[SandboxHandle, Engine], tmp_path: Path
) -> None:
    handle, engine = synced
    gone = _delete_a_customer_and_a_contact_person(handle)
    assert set(gone) <= _downstream_keys(handle)

    engine.run(all_data=True)
    engine.run()

    assert not set(gone) & _downstream_keys(handle)
    assert harness.outputs(handle) == fresh_sync(handle.data_dir / "sales.db", tmp_path)


def test_records_deleted_while_the_checkpoint_expired_are_removed(
    synced: tuple[SandboxHandle, Engine], tmp_path: Path
) -> None:
    handle, engine = synced
    gone = _delete_a_customer_and_a_contact_person(handle)
    # as if change tracking had purged its history: every delta token issued so far expires
    conn = sqlite3.connect(handle.data_dir / "sales.db")
    with conn:
        conn.execute("UPDATE _ct_version SET purged_through = version")
    conn.close()

    runs = engine.run()

    assert all("expired" in (run.message or "") for run in runs), [r.message for r in runs]
    assert not set(gone) & _downstream_keys(handle)
    assert harness.outputs(handle) == fresh_sync(handle.data_dir / "sales.db", tmp_path)
