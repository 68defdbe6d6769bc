"""The Sales P2C solution as triggers: numbering, Is Active Customer, IsCompanyAnAccount."""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

import pytest

from integrator.sandbox.stores import SandboxStore, autonumber_next, set_autonumber_seed

ACCOUNT_ID = "aaaaaaaa-0000-4000-8000-000000000001"
OTHER_ACCOUNT_ID = "aaaaaaaa-0000-4000-8000-000000000002"
CONTACT_ID = "cccccccc-0000-4000-8000-000000000001"
PARENT_CONTACT_ID = "cccccccc-0000-4000-8000-000000000002"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def contact(conn: sqlite3.Connection, contact_id: str) -> dict[str, object]:
    cur = conn.execute("SELECT * FROM contacts WHERE contactid = ?", (contact_id,))
    return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))


def add_contact(conn: sqlite3.Connection, contact_id: str = CONTACT_ID, **values: object) -> None:
    row = {"contactid": contact_id, "lastname": "Smith", **values}
    conn.execute(
        f"INSERT INTO contacts ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )


def test_contact_and_account_numbers_start_at_01000(sales: sqlite3.Connection) -> None:
    add_contact(sales)
    add_contact(sales, PARENT_CONTACT_ID)
    sales.execute("INSERT INTO accounts (name) VALUES ('Contoso')")
    numbers = [r[0] for r in sales.execute("SELECT msdynce_contactnumber FROM contacts ORDER BY 1")]
    assert re.fullmatch(r"CON-01000-[A-Z0-9]{6}", numbers[0])
    assert re.fullmatch(r"CON-01001-[A-Z0-9]{6}", numbers[1])
    (account_number,) = sales.execute("SELECT accountnumber FROM accounts").fetchone()
    assert re.fullmatch(r"ACC-01000-[A-Z0-9]{6}", account_number)


def test_a_given_number_is_kept_and_does_not_use_the_sequence(sales: sqlite3.Connection) -> None:
    add_contact(sales, msdynce_contactnumber="LEGACY-7")
    add_contact(sales, PARENT_CONTACT_ID, msdynce_contactnumber="")
    assert contact(sales, CONTACT_ID)["msdynce_contactnumber"] == "LEGACY-7"
    assert str(contact(sales, PARENT_CONTACT_ID)["msdynce_contactnumber"]).startswith("CON-01000-")
    assert autonumber_next(sales, "contact", "msdynce_contactnumber") == 1001


def test_set_autonumber_seed_moves_the_sequence(sales: sqlite3.Connection) -> None:
    set_autonumber_seed(sales, "contact", "msdynce_contactnumber", 5000)
    add_contact(sales)
    set_autonumber_seed(sales, "contact", "msdynce_contactnumber", 123456)
    add_contact(sales, PARENT_CONTACT_ID)
    assert str(contact(sales, CONTACT_ID)["msdynce_contactnumber"]).startswith("CON-05000-")
    assert str(contact(sales, PARENT_CONTACT_ID)["msdynce_contactnumber"]).startswith("CON-123456-")
    with pytest.raises(ValueError, match="not an autonumber column"):
        set_autonumber_seed(sales, "contact", "lastname", 1)
    with pytest.raises(ValueError, match="negative"):
        set_autonumber_seed(sales, "contact", "msdynce_contactnumber", -1)


def test_numbers_are_unique_under_concurrent_creates(store: SandboxStore) -> None:
    threads, per_thread = 4, 60
    errors: list[BaseException] = []

    def create() -> None:
        conn = store.connect("sales")
        try:
            for _ in range(per_thread):
                conn.execute("INSERT INTO contacts (lastname) VALUES ('Concurrent')")
        except BaseException as e:  # the assertion below reports it
            errors.append(e)
        finally:
            conn.close()

    workers = [threading.Thread(target=create) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    conn = store.connect("sales")
    numbers = [r[0] for r in conn.execute("SELECT msdynce_contactnumber FROM contacts")]
    conn.close()
    assert len(numbers) == len(set(numbers)) == threads * per_thread
    seqnums = sorted(int(n.split("-")[1]) for n in numbers)
    assert seqnums == list(range(1000, 1000 + threads * per_thread))


@pytest.mark.parametrize("table", ["quotes", "salesorders", "invoices"])
def test_a_document_naming_a_contact_makes_it_an_active_customer(
    sales: sqlite3.Connection, table: str
) -> None:
    add_contact(sales)
    sales.execute("INSERT INTO accounts (accountid, name) VALUES (?, 'A')", (ACCOUNT_ID,))
    assert contact(sales, CONTACT_ID)["msdynce_isactivecustomer"] == 0
    sales.execute(
        f"INSERT INTO {table} (name, customerid, customeridtype) VALUES ('d', ?, 'account')",
        (ACCOUNT_ID,),
    )
    assert contact(sales, CONTACT_ID)["msdynce_isactivecustomer"] == 0
    sales.execute(
        f"INSERT INTO {table} (name, customerid, customeridtype) VALUES ('d', ?, 'contact')",
        (CONTACT_ID,),
    )
    assert contact(sales, CONTACT_ID)["msdynce_isactivecustomer"] == 1


def test_re_pointing_a_document_at_a_contact_makes_it_active(sales: sqlite3.Connection) -> None:
    add_contact(sales)
    sales.execute("INSERT INTO accounts (accountid, name) VALUES (?, 'A')", (ACCOUNT_ID,))
    sales.execute(
        "INSERT INTO salesorders (name, customerid, customeridtype) VALUES ('o', ?, 'account')",
        (ACCOUNT_ID,),
    )
    sales.execute(
        "UPDATE salesorders SET customerid = ?, customeridtype = 'contact'", (CONTACT_ID,)
    )
    assert contact(sales, CONTACT_ID)["msdynce_isactivecustomer"] == 1


def test_a_contact_created_after_its_document_is_active(sales: sqlite3.Connection) -> None:
    add_contact(sales, PARENT_CONTACT_ID)
    sales.execute(
        "INSERT INTO quotes (name, customerid, customeridtype) VALUES ('q', ?, 'contact')",
        (PARENT_CONTACT_ID,),
    )
    sales.execute("DELETE FROM contacts")
    add_contact(sales, PARENT_CONTACT_ID)
    assert contact(sales, PARENT_CONTACT_ID)["msdynce_isactivecustomer"] == 1


def test_is_company_an_account_follows_parentcustomerid(sales: sqlite3.Connection) -> None:
    sales.execute("INSERT INTO accounts (accountid, name) VALUES (?, 'A')", (ACCOUNT_ID,))
    sales.execute("INSERT INTO accounts (accountid, name) VALUES (?, 'B')", (OTHER_ACCOUNT_ID,))
    add_contact(sales, PARENT_CONTACT_ID)
    add_contact(sales)

    def flag() -> object:
        return contact(sales, CONTACT_ID)["msdynce_iscompanyanaccount"]

    assert flag() == 0
    set_parent = (
        "UPDATE contacts SET parentcustomerid = ?, parentcustomeridtype = ? WHERE contactid = ?"
    )
    sales.execute(set_parent, (ACCOUNT_ID, "account", CONTACT_ID))
    assert flag() == 1
    sales.execute(set_parent, (PARENT_CONTACT_ID, "contact", CONTACT_ID))
    assert flag() == 0
    sales.execute(set_parent, (OTHER_ACCOUNT_ID, "account", CONTACT_ID))
    assert flag() == 1
    sales.execute(set_parent, (None, None, CONTACT_ID))
    assert flag() == 0
    sales.execute(set_parent, (ACCOUNT_ID, "account", CONTACT_ID))
    sales.execute("DELETE FROM accounts WHERE accountid = ?", (ACCOUNT_ID,))
    row = contact(sales, CONTACT_ID)
    assert (row["parentcustomerid"], row["msdynce_iscompanyanaccount"]) == (None, 0)


def test_a_contact_created_under_an_account_is_flagged(sales: sqlite3.Connection) -> None:
    sales.execute("INSERT INTO accounts (accountid, name) VALUES (?, 'A')", (ACCOUNT_ID,))
    add_contact(sales, parentcustomerid=ACCOUNT_ID, parentcustomeridtype="account")
    assert contact(sales, CONTACT_ID)["msdynce_iscompanyanaccount"] == 1


def test_without_the_solution_nothing_is_maintained_and_reopening_toggles(tmp_path: Path) -> None:
    SandboxStore.open(tmp_path, with_solution=False)
    conn = SandboxStore.open(tmp_path, with_solution=None).connect("sales")
    conn.execute("INSERT INTO accounts (accountid, name) VALUES (?, 'A')", (ACCOUNT_ID,))
    add_contact(conn, parentcustomerid=ACCOUNT_ID, parentcustomeridtype="account")
    conn.execute(
        "INSERT INTO quotes (name, customerid, customeridtype) VALUES ('q', ?, 'contact')",
        (CONTACT_ID,),
    )
    before = contact(conn, CONTACT_ID)
    assert before["msdynce_contactnumber"] is None
    assert before["msdynce_isactivecustomer"] is None
    assert before["msdynce_iscompanyanaccount"] is None
    assert before["fullname"] == "Smith" and before["versionnumber"] is not None
    assert conn.execute("SELECT accountnumber FROM accounts").fetchone() == (None,)

    store = SandboxStore.open(tmp_path, with_solution=True)
    assert store.with_solution
    add_contact(conn, PARENT_CONTACT_ID)
    assert str(contact(conn, PARENT_CONTACT_ID)["msdynce_contactnumber"]).startswith("CON-01000-")
    assert contact(conn, CONTACT_ID)["msdynce_contactnumber"] is None

    store.remove_solution()
    assert SandboxStore.open(tmp_path, with_solution=None).with_solution is False
    conn.execute("DELETE FROM contacts WHERE contactid = ?", (PARENT_CONTACT_ID,))
    add_contact(conn, PARENT_CONTACT_ID)
    assert contact(conn, PARENT_CONTACT_ID)["msdynce_contactnumber"] is None
    store.install_solution()
    conn.execute("DELETE FROM contacts WHERE contactid = ?", (PARENT_CONTACT_ID,))
    add_contact(conn, PARENT_CONTACT_ID)
    assert str(contact(conn, PARENT_CONTACT_ID)["msdynce_contactnumber"]).startswith("CON-01001-")
    conn.close()


@pytest.mark.parametrize(
    ("first", "middle", "last", "fullname"),
    [
        ("José", None, "Müller", "José Müller"),
        ("Søren", "Åge", "Kierkegaard", "Søren Åge Kierkegaard"),
        (None, None, "王", "王"),
        ("Иван", "", "  ", "Иван"),
        (None, None, None, None),
    ],
)
def test_fullname_joins_the_names(
    sales: sqlite3.Connection, first: str | None, middle: str | None, last: str | None,
    fullname: str | None,
) -> None:  # fmt: skip
    add_contact(sales, firstname=first, middlename=middle, lastname=last)
    assert contact(sales, CONTACT_ID)["fullname"] == fullname


def test_a_new_row_is_active(sales: sqlite3.Connection) -> None:
    add_contact(sales)
    assert contact(sales, CONTACT_ID)["statecode"] == 0


def test_fullname_follows_updates_and_cannot_be_written(sales: sqlite3.Connection) -> None:
    add_contact(sales, firstname="Ann")
    sales.execute("UPDATE contacts SET firstname = 'Anne', fullname = 'Someone else'")
    assert contact(sales, CONTACT_ID)["fullname"] == "Anne Smith"


def test_createdon_is_kept_and_modifiedon_moves(sales: sqlite3.Connection) -> None:
    add_contact(sales)
    created = contact(sales, CONTACT_ID)
    assert ISO_MS.match(str(created["createdon"]))
    assert created["createdon"] == created["modifiedon"]
    sales.execute("UPDATE contacts SET jobtitle = 'CEO', createdon = '2001-01-01T00:00:00.000Z'")
    updated = contact(sales, CONTACT_ID)
    assert updated["createdon"] == created["createdon"]
    assert ISO_MS.match(str(updated["modifiedon"]))
    assert str(updated["modifiedon"]) >= str(created["modifiedon"])
