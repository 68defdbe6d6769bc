"""Records that move, leave their task's selection or are deleted leave no stale rows behind:
after any sequence of changes and runs, CDS and F&O hold what a fresh full sync would."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.run import Engine
from integrator.sandbox.testing import SandboxHandle
from tests.golden.dataset import dump_outputs, load_sales

ANN = "CON-01001-DECIDR"


@pytest.fixture
def engine(tmp_path: Path, sandbox: SandboxHandle) -> Iterator[Engine]:
    load_sales(sandbox.data_dir)
    engine = Engine(load_workspace(init_workspace(tmp_path / "ws", sandbox.url)))
    engine.run()
    yield engine
    engine.close()


def _sales(sandbox: SandboxHandle, sql: str, *params: object) -> None:
    conn = sqlite3.connect(sandbox.data_dir / "sales.db")
    with conn:
        conn.execute(sql, params)
    conn.close()


def _contact_persons(sandbox: SandboxHandle) -> set[tuple[str, str]]:
    rows = dump_outputs(sandbox.data_dir)["finops"]["CDSContactPersons"]
    return {(r["ContactPersonPartyNumber"], r["AssociatedPartyNumber"]) for r in rows}


def _fresh_sync(tmp_path: Path, sandbox: SandboxHandle) -> dict[str, object]:
    """CDS and F&O as a full sync of the current Sales data into empty systems leaves them."""
    from integrator.sandbox.stores import SandboxStore
    from integrator.sandbox.testing import running_sandbox

    fresh_dir = tmp_path / "fresh"
    SandboxStore.open(fresh_dir)
    (fresh_dir / "sales.db").unlink()
    source = sqlite3.connect(sandbox.data_dir / "sales.db")
    target = sqlite3.connect(fresh_dir / "sales.db")
    source.backup(target)
    source.close()
    target.close()
    with running_sandbox(fresh_dir) as fresh:
        engine = Engine(load_workspace(init_workspace(tmp_path / "fresh-ws", fresh.url)))
        engine.run()
        engine.close()
        return dump_outputs(fresh_dir)


def test_a_contact_moving_to_another_account_moves_its_contact_person(
    engine: Engine, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    assert (ANN, "ACC-01000-CONTSO") in _contact_persons(sandbox)
    _sales(
        sandbox,
        "UPDATE contacts SET parentcustomerid = ?, parentcustomeridtype = 'account' "
        "WHERE msdynce_contactnumber = ?",
        "00000000-0000-0000-0000-00000000a002",
        ANN,
    )
    engine.run()
    persons = _contact_persons(sandbox)
    assert (ANN, "ACC-01001-FABRKM") in persons
    assert (ANN, "ACC-01000-CONTSO") not in persons
    assert dump_outputs(sandbox.data_dir) == _fresh_sync(tmp_path, sandbox)


def test_a_contact_becoming_a_customer_leaves_contacts_and_joins_customers(
    engine: Engine, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    _sales(
        sandbox,
        "INSERT INTO invoices (invoiceid, name, customerid, customeridtype) VALUES "
        "('00000000-0000-0000-0000-000000000e09', 'Invoice', "
        "'00000000-0000-0000-0000-00000000c002', 'contact')",
    )
    engine.run()
    outputs = dump_outputs(sandbox.data_dir)
    assert ANN not in {p for p, _ in _contact_persons(sandbox)}
    assert ANN not in {r["ContactId"] for r in outputs["cds"]["contacts"]}
    assert ANN in {r["CustomerAccount"] for r in outputs["finops"]["CustomersV2"]}
    assert outputs == _fresh_sync(tmp_path, sandbox)


def test_a_contact_deleted_in_sales_is_removed_downstream(
    engine: Engine, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    _sales(sandbox, "DELETE FROM contacts WHERE msdynce_contactnumber = ?", ANN)
    summaries = engine.run()
    assert all(run.tasks[0].counts.errors <= 2 for run in summaries)
    outputs = dump_outputs(sandbox.data_dir)
    assert ANN not in {r["ContactId"] for r in outputs["cds"]["contacts"]}
    assert ANN not in {p for p, _ in _contact_persons(sandbox)}
    assert outputs == _fresh_sync(tmp_path, sandbox)


def test_a_contact_number_changing_only_its_case_keeps_its_rows(
    engine: Engine, sandbox: SandboxHandle
) -> None:
    # Dataverse and F&O take 'con-01001-decidr' for the same key: the row is updated, and the
    # "old" key is not stale (removing it would remove the row just written)
    _sales(
        sandbox,
        "UPDATE contacts SET msdynce_contactnumber = ? WHERE msdynce_contactnumber = ?",
        ANN.lower(),
        ANN,
    )
    summaries = engine.run()
    assert all(t.counts.errors <= 2 for run in summaries for t in run.tasks)
    outputs = dump_outputs(sandbox.data_dir)
    assert ANN.casefold() in {r["ContactId"].casefold() for r in outputs["cds"]["contacts"]}
    assert ANN.casefold() in {p.casefold() for p, _ in _contact_persons(sandbox)}
