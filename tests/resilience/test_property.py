"""Whatever happens in Sales between runs, incremental runs leave CDS and F&O exactly as a fresh
full sync of the final Sales data into empty systems would.

Hypothesis draws sequences of Sales changes (new accounts and contacts, field updates, a quote,
order or invoice that makes a contact an active customer, a contact's company changing between
accounts, contacts and none, deleted contacts and accounts) interleaved with incremental and
all-data runs. Changes go in through SQL on the sandbox's Sales database, whose triggers keep
the P2C fields (Contact Number, Is Active Customer, IsCompanyAnAccount) as Sales would. The
sandbox serves pages of a few rows, so every task commits many batches.
"""

from __future__ import annotations

import sqlite3
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrator.config.workspace import load_workspace
from integrator.engine.history import RunStatus
from integrator.engine.run import Engine
from integrator.sandbox.stores import SandboxStore
from tests.resilience import harness
from tests.resilience.harness import Dataset

BASE = Dataset("property", accounts=5, contacts=14, random_seed=7, page_size=4)

NAMES = ["Ana", "Björn", "Zoë", "Łukasz", "Ngozi", "Kenji", "O'Brien", "Müller", "Li"]
CITIES = ["Seattle", "München", "Lyon", "Osaka", None]
COUNTRIES = ["USA", "Germany", "France", "Japan", "U.S.", None]
CONTACT_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "firstname": st.sampled_from(NAMES),
    "lastname": st.sampled_from(NAMES[:-1]),
    "jobtitle": st.sampled_from(["CEO", "Buyer", "Engineer", None]),
    "telephone1": st.sampled_from(["+1 425 555 0100", "+49 89 1234", None]),
    "emailaddress1": st.sampled_from(["a@example.com", "b@example.org", None]),
    "address1_city": st.sampled_from(CITIES),
    "address1_country": st.sampled_from(COUNTRIES),
    "accountrolecode": st.sampled_from([1, 2, None]),
}
ACCOUNT_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "name": st.sampled_from(["Contoso", "Fabrikam", "Adatum", "Northwind Traders"]),
    "telephone1": st.sampled_from(["+1 206 555 0199", None]),
    "address1_city": st.sampled_from(CITIES),
    "address1_country": st.sampled_from(COUNTRIES),
}


@dataclass(frozen=True)
class Change:
    """One step: a Sales change (``kind`` and its arguments) or a run."""

    kind: str
    args: tuple[Any, ...] = ()

    def __repr__(self) -> str:
        return f"{self.kind}{self.args!r}"


def _field_update(
    fields: dict[str, st.SearchStrategy[Any]], kind: str
) -> st.SearchStrategy[Change]:
    return st.sampled_from(sorted(fields)).flatmap(
        lambda name: st.tuples(st.integers(0, 1000), st.just(name), fields[name]).map(
            lambda args: Change(kind, args)
        )
    )


PARENT = st.one_of(
    st.tuples(st.just("account"), st.integers(0, 1000)),
    st.tuples(st.just("contact"), st.integers(0, 1000)),
    st.just(("none", 0)),
)
CHANGE = st.one_of(
    st.tuples(st.sampled_from(NAMES), st.sampled_from(COUNTRIES)).map(
        lambda a: Change("create_account", a)
    ),
    st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES[:-1]), PARENT).map(
        lambda a: Change("create_contact", a)
    ),
    _field_update(CONTACT_FIELDS, "update_contact"),
    _field_update(ACCOUNT_FIELDS, "update_account"),
    st.tuples(st.integers(0, 1000), st.sampled_from(["quotes", "salesorders", "invoices"])).map(
        lambda a: Change("make_customer", a)
    ),
    st.tuples(st.integers(0, 1000), PARENT).map(lambda a: Change("set_parent", a)),
    st.integers(0, 1000).map(lambda i: Change("delete_contact", (i,))),
    st.integers(0, 1000).map(lambda i: Change("delete_account", (i,))),
    st.just(Change("run")),
    st.just(Change("run_all_data")),
)


def _ids(conn: sqlite3.Connection, table: str, key: str) -> list[str]:
    return [row[0] for row in conn.execute(f"SELECT {key} FROM {table} ORDER BY rowid")]


def _parent(conn: sqlite3.Connection, choice: tuple[str, int], me: str | None) -> tuple[Any, Any]:
    kind, index = choice
    if kind == "none":
        return None, None
    table, key = ("accounts", "accountid") if kind == "account" else ("contacts", "contactid")
    ids = [i for i in _ids(conn, table, key) if i != me]
    return (ids[index % len(ids)], kind) if ids else (None, None)


def apply(data_dir: Path, change: Change, serial: int) -> None:
    """Make ``change`` in the Sales database of the sandbox in ``data_dir``."""
    args = change.args
    new_id = str(uuid.UUID(int=0xA11CE000 + serial))
    with harness.sales_db(data_dir) as conn:
        contacts = _ids(conn, "contacts", "contactid")
        accounts = _ids(conn, "accounts", "accountid")
        if change.kind == "create_account":
            conn.execute(
                "INSERT INTO accounts (accountid, name, address1_country) VALUES (?, ?, ?)",
                (new_id, f"{args[0]} GmbH", args[1]),
            )
        elif change.kind == "create_contact":
            parent, kind = _parent(conn, args[2], None)
            conn.execute(
                "INSERT INTO contacts (contactid, firstname, lastname, parentcustomerid,"
                " parentcustomeridtype) VALUES (?, ?, ?, ?, ?)",
                (new_id, args[0], args[1], parent, kind),
            )
        elif change.kind == "update_contact" and contacts:
            conn.execute(
                f"UPDATE contacts SET {args[1]} = ? WHERE contactid = ?",
                (args[2], contacts[args[0] % len(contacts)]),
            )
        elif change.kind == "update_account" and accounts:
            conn.execute(
                f"UPDATE accounts SET {args[1]} = ? WHERE accountid = ?",
                (args[2], accounts[args[0] % len(accounts)]),
            )
        elif change.kind == "make_customer" and contacts:
            table = args[1]
            key = {"quotes": "quoteid", "salesorders": "salesorderid", "invoices": "invoiceid"}
            conn.execute(
                f"INSERT INTO {table} ({key[table]}, name, customerid, customeridtype)"
                " VALUES (?, 'Order', ?, 'contact')",
                (new_id, contacts[args[0] % len(contacts)]),
            )
        elif change.kind == "set_parent" and contacts:
            me = contacts[args[0] % len(contacts)]
            parent, kind = _parent(conn, args[1], me)
            conn.execute(
                "UPDATE contacts SET parentcustomerid = ?, parentcustomeridtype = ?"
                " WHERE contactid = ?",
                (parent, kind, me),
            )
        elif change.kind == "delete_contact" and contacts:
            conn.execute(
                "DELETE FROM contacts WHERE contactid = ?", (contacts[args[0] % len(contacts)],)
            )
        elif change.kind == "delete_account" and accounts:
            conn.execute(
                "DELETE FROM accounts WHERE accountid = ?", (accounts[args[0] % len(accounts)],)
            )


def fresh_sync(sales: Path, directory: Path) -> harness.Outputs:
    """CDS and F&O after a full sync of the Sales database ``sales`` into empty systems."""
    fresh = directory / "fresh"
    SandboxStore.open(fresh)
    source, target = sqlite3.connect(sales), sqlite3.connect(fresh / "sales.db")
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    with harness.served(fresh, BASE) as handle:
        engine = Engine(load_workspace(harness.workspace(directory / "fresh-ws", handle)))
        try:
            engine.run()
        finally:
            engine.close()
        return harness.outputs(handle)


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return harness.prepare(BASE, tmp_path_factory.mktemp("property"))


def _check(runs: list[Any], step: str) -> None:
    for summary in runs:
        assert summary.status == RunStatus.COMPLETED, (step, summary)


@pytest.mark.timeout(900)
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(changes=st.lists(CHANGE, min_size=1, max_size=14))
def test_incremental_runs_end_as_a_fresh_full_sync(base_dir: Path, changes: list[Change]) -> None:
    with tempfile.TemporaryDirectory(prefix="property-") as scratch:
        root = Path(scratch)
        data_dir = harness.clone(base_dir, root / "sandbox")
        with harness.served(data_dir, BASE) as handle:
            engine = Engine(load_workspace(harness.workspace(root / "ws", handle)))
            try:
                _check(engine.run(), "first run")
                for serial, change in enumerate(changes):
                    if change.kind == "run":
                        _check(engine.run(), repr(change))
                    elif change.kind == "run_all_data":
                        _check(engine.run(all_data=True), repr(change))
                    else:
                        apply(data_dir, change, serial)
                _check(engine.run(), "last run")
            finally:
                engine.close()
            result = harness.outputs(handle)
        expected = fresh_sync(data_dir / "sales.db", root)
    assert harness.differences(result, expected) == []
    assert result == expected
