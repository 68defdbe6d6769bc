"""Change tracking in the data layer: versions stamped by triggers, tombstones, expiry."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from integrator.sandbox.stores import (
    CDS,
    SALES,
    SandboxStore,
    changed_since,
    current_version,
    deleted_since,
    purge_tombstones,
    token_expired,
)

ACCOUNTS = SALES.entity_set("accounts")
assert ACCOUNTS is not None


def versions(conn: sqlite3.Connection, table: str) -> list[int]:
    return [r[0] for r in conn.execute(f"SELECT versionnumber FROM {table} ORDER BY rowid")]


def test_every_write_takes_a_new_version(sales: sqlite3.Connection) -> None:
    assert current_version(sales) == 0
    sales.execute("INSERT INTO accounts (name) VALUES ('A'), ('B')")
    sales.execute("INSERT INTO contacts (lastname) VALUES ('C')")
    assert versions(sales, "accounts") == [1, 2]
    assert versions(sales, "contacts") == [3]
    sales.execute("UPDATE accounts SET name = 'A2' WHERE name = 'A'")
    assert versions(sales, "accounts") == [4, 2]
    assert current_version(sales) == 4


def test_a_client_cannot_set_versionnumber(sales: sqlite3.Connection) -> None:
    sales.execute("INSERT INTO accounts (name, versionnumber) VALUES ('A', 999)")
    assert versions(sales, "accounts") == [1]
    sales.execute("UPDATE accounts SET versionnumber = 77")
    assert versions(sales, "accounts") == [2]
    sales.execute("INSERT INTO accounts (name, versionnumber) VALUES ('B', 3)")
    sales.execute("UPDATE accounts SET versionnumber = 5, name = 'B2' WHERE name = 'B'")
    assert versions(sales, "accounts") == [2, 4]
    assert current_version(sales) == 4


def test_changed_since_returns_rows_written_after_a_token(sales: sqlite3.Connection) -> None:
    sales.execute("INSERT INTO accounts (name) VALUES ('old'), ('touched')")
    token = current_version(sales)
    sales.execute("INSERT INTO accounts (name) VALUES ('new')")
    sales.execute("UPDATE accounts SET telephone1 = '1' WHERE name = 'touched'")
    rows = changed_since(sales, ACCOUNTS, token, current_version(sales), ["name"])
    assert rows == [{"name": "new"}, {"name": "touched"}]
    assert changed_since(sales, ACCOUNTS, current_version(sales), current_version(sales)) == []


def test_deletes_leave_tombstones_with_the_key(
    sales: sqlite3.Connection, cds: sqlite3.Connection
) -> None:
    sales.execute("INSERT INTO accounts (accountid, name) VALUES (?, 'gone')", (ID,))
    token = current_version(sales)
    sales.execute("DELETE FROM accounts")
    assert deleted_since(sales, "accounts", token, current_version(sales)) == [{"accountid": ID}]
    assert deleted_since(sales, "accounts", current_version(sales), current_version(sales)) == []
    assert deleted_since(sales, "contacts", token, current_version(sales)) == []

    cds.execute(
        "INSERT INTO accounts (Organization_OrganizationId, AccountId) VALUES ('ORG001', 'A')"
    )
    cds.execute("DELETE FROM accounts")
    assert deleted_since(cds, "accounts", 0, current_version(cds)) == [
        {"Organization_OrganizationId": "ORG001", "AccountId": "A"}
    ]


def test_untracked_sets_leave_no_tombstones(sales: sqlite3.Connection) -> None:
    sales.execute("INSERT INTO quotes (name) VALUES ('q')")
    sales.execute("DELETE FROM quotes")
    assert sales.execute("SELECT count(*) FROM _ct_tombstones").fetchone() == (0,)


def test_purging_tombstones_expires_older_tokens(tmp_path: Path) -> None:
    store = SandboxStore.open(tmp_path)
    conn = store.connect("sales")
    conn.execute("INSERT INTO accounts (name) VALUES ('a'), ('b')")
    old_token = current_version(conn)
    conn.execute("DELETE FROM accounts WHERE name = 'a'")
    assert not token_expired(conn, old_token)
    SandboxStore.open(tmp_path)  # recent tombstones survive the purge at open
    assert deleted_since(conn, "accounts", old_token, current_version(conn)) != []

    later = datetime.now(UTC) + timedelta(minutes=1)
    assert purge_tombstones(conn, before=later) == 1
    assert token_expired(conn, old_token)
    assert not token_expired(conn, current_version(conn))
    assert token_expired(conn, current_version(conn) + 1)
    conn.close()


def test_tracked_sets_are_declared() -> None:
    tracked = {(s.name, e.name) for s in (SALES, CDS) for e in s.entity_sets if e.change_tracking}
    assert tracked == {
        ("sales", "accounts"),
        ("sales", "contacts"),
        ("cds", "accounts"),
        ("cds", "contacts"),
    }


ID = "aaaaaaaa-0000-4000-8000-00000000000a"
