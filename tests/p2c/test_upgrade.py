"""The upgrade script on a Sales store that had data before the P2C solution."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from integrator.p2c.upgrade import run_upgrade
from integrator.sandbox.sqlaccess import sql_connectors
from integrator.sandbox.stores import SandboxStore, set_autonumber_seed

ACCOUNT = "00000000-0000-0000-0000-0000000000a{}"
CONTACT = "00000000-0000-0000-0000-0000000000c{}"


def _legacy_sales(data_dir: Path) -> None:
    """Sales as it was before the solution: no numbers, no P2C flags."""
    store = SandboxStore.open(data_dir, with_solution=False)
    conn = store.connect("sales")
    with conn:
        conn.execute(
            "INSERT INTO accounts (accountid, name, accountnumber) VALUES (?, 'Numbered', ?)",
            (ACCOUNT.format(1), "ACC-01500-ABCDEF"),
        )
        conn.execute(
            "INSERT INTO accounts (accountid, name) VALUES (?, 'Unnumbered')", (ACCOUNT.format(2),)
        )
        conn.execute(
            "INSERT INTO contacts (contactid, lastname, msdynce_contactnumber) VALUES (?, ?, ?)",
            (CONTACT.format(1), "Numbered", "CON-01041-ZZZZZZ"),
        )
        rows = [
            (CONTACT.format(2), "Works at an account", ACCOUNT.format(1), "account"),
            (CONTACT.format(3), "Works for a contact", CONTACT.format(1), "contact"),
            (CONTACT.format(4), "Buys things", None, None),
            (CONTACT.format(5), "Just a name", None, None),
        ]
        conn.executemany(
            "INSERT INTO contacts (contactid, lastname, parentcustomerid, parentcustomeridtype) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )
        conn.execute(
            "INSERT INTO quotes (quoteid, name, customerid, customeridtype) "
            "VALUES ('00000000-0000-0000-0000-000000000b01', 'Q', ?, 'contact')",
            (CONTACT.format(4),),
        )
    conn.close()


def _seed_setter(data_dir: Path) -> object:
    def set_seed(entity: str, attribute: str, value: int) -> None:
        conn = SandboxStore.open(data_dir, with_solution=None).connect("sales")
        with conn:
            set_autonumber_seed(conn, entity, attribute, value)
        conn.close()

    return set_seed


def _contacts(data_dir: Path) -> dict[str, tuple[str | None, int | None, int | None]]:
    conn = sqlite3.connect(data_dir / "sales.db")
    rows = conn.execute(
        "SELECT contactid, msdynce_contactnumber, msdynce_isactivecustomer, "
        "msdynce_iscompanyanaccount FROM contacts"
    ).fetchall()
    conn.close()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def test_upgrade_numbers_flags_and_is_idempotent(tmp_path: Path) -> None:
    data = tmp_path / "sandbox"
    _legacy_sales(data)
    sales = sql_connectors(data)["sales"]
    report = run_upgrade(sales, _seed_setter(data), page_size=2)  # type: ignore[arg-type]
    assert report.failures == []
    assert (report.accounts_numbered, report.contacts_numbered) == (1, 4)
    contacts = _contacts(data)
    numbers = [number for number, _, _ in contacts.values()]
    assert all(n and re.fullmatch(r"CON-\d{5}-[A-Z0-9]{6}", n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    # continues after the highest number in use
    assert sorted(int(n.split("-")[1]) for n in numbers if n) == [1041, 1042, 1043, 1044, 1045]
    assert contacts[CONTACT.format(4)][1:] == (1, 0)  # has a quote → active customer
    assert contacts[CONTACT.format(2)][1:] == (0, 1)  # company is an account
    assert contacts[CONTACT.format(3)][1:] == (0, 0)  # company is a contact
    assert contacts[CONTACT.format(5)][1:] == (0, 0)

    conn = sqlite3.connect(data / "sales.db")
    (account_number,) = conn.execute(
        "SELECT accountnumber FROM accounts WHERE accountid = ?", (ACCOUNT.format(2),)
    ).fetchone()
    conn.close()
    assert re.fullmatch(r"ACC-01501-[A-Z0-9]{6}", account_number)

    again = run_upgrade(sales, _seed_setter(data))  # type: ignore[arg-type]
    assert again.changed == 0 and again.failures == []
    sales.close()

    # with the solution installed, the next contact is numbered after the upgraded ones
    store = SandboxStore.open(data, with_solution=True)
    conn = store.connect("sales")
    with conn:
        conn.execute(
            "INSERT INTO contacts (contactid, lastname) VALUES (?, 'New')", (CONTACT.format(9),)
        )
    number = conn.execute(
        "SELECT msdynce_contactnumber FROM contacts WHERE contactid = ?", (CONTACT.format(9),)
    ).fetchone()[0]
    conn.close()
    assert int(number.split("-")[1]) > 1045
