"""The stores compare text one way everywhere: Unicode case folding, index searches included,
on the sandbox's own connections and on SQL connectors pointed at the store files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from integrator.sandbox.sqlaccess import sql_connectors
from integrator.sandbox.stores.store import SandboxStore

NAMES = [("Ñúñez", "ÑÚ-1"), ("Jürgen", "JÜ-2"), ("Straße", "STRASSE-3"), ("Øster", "øs-4")]
#: ordered one way by SQLite's ASCII-only NOCASE (Ä before ä) and the other by case folding
NAMES += [("Ärger", "ÄB-6"), ("ähnlich", "äa-7")]


def _insert(conn: sqlite3.Connection, rows: list[tuple[str, str]], start: int = 0) -> None:
    for i, (last, number) in enumerate(rows, start):
        conn.execute(
            "INSERT INTO contacts (contactid, lastname, msdynce_contactnumber) VALUES (?, ?, ?)",
            (f"00000000-0000-0000-0000-{i:012d}", last, number),
        )


def _found(conn: sqlite3.Connection, number: str) -> list[str]:
    sql = "SELECT lastname FROM contacts WHERE msdynce_contactnumber = ?"
    plan = " ".join(str(row) for row in conn.execute("EXPLAIN QUERY PLAN " + sql, (number,)))
    assert "SEARCH contacts USING" in plan and "ak_contacts_msdynce_contactnumber" in plan, plan
    return [row[0] for row in conn.execute(sql, (number,))]


def test_keys_match_whatever_the_case_through_the_index(tmp_path: Path) -> None:
    store = SandboxStore.open(tmp_path)
    conn = store.connect("sales")
    _insert(conn, NAMES)
    assert _found(conn, "ñú-1") == ["Ñúñez"]
    assert _found(conn, "jü-2") == ["Jürgen"]
    assert _found(conn, "straße-3") == ["Straße"]
    assert _found(conn, "ØS-4") == ["Øster"]
    ordered = conn.execute("SELECT lastname FROM contacts ORDER BY lastname").fetchall()
    assert [r[0] for r in ordered] == ["Jürgen", "Straße", "ähnlich", "Ärger", "Ñúñez", "Øster"]
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_store_indexed_under_sqlites_own_nocase_is_reindexed_on_open(tmp_path: Path) -> None:
    SandboxStore.open(tmp_path)
    plain = sqlite3.connect(tmp_path / "sales.db", isolation_level=None)
    plain.execute("DELETE FROM _meta WHERE key = 'collation'")
    _insert(plain, NAMES)  # indexed the ASCII-only way
    plain.close()
    conn = SandboxStore.open(tmp_path).connect("sales")
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert _found(conn, "ñú-1") == ["Ñúñez"]
    assert _found(conn, "ØS-4") == ["Øster"]


def test_sql_connectors_on_the_store_files_compare_the_same_way(tmp_path: Path) -> None:
    store = SandboxStore.open(tmp_path)
    _insert(store.connect("sales"), NAMES)
    engine = sql_connectors(tmp_path)["sales"]._engine
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO contacts (contactid, lastname, msdynce_contactnumber) "
                "VALUES ('00000000-0000-0000-0000-000000000099', 'Ångström', 'ÅN-5')"
            )
        )
        found = conn.execute(
            sa.text("SELECT lastname FROM contacts WHERE msdynce_contactnumber = 'jü-2'")
        ).scalars()
        assert list(found) == ["Jürgen"]
    sandbox = store.connect("sales")
    assert _found(sandbox, "ån-5") == ["Ångström"]
    assert sandbox.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_keys_ignore_trailing_spaces_as_sql_servers_equals_does(tmp_path: Path) -> None:
    store = SandboxStore.open(tmp_path)
    conn = store.connect("sales")
    _insert(conn, [("Reader", "CON-09999-DUPDUP")])
    assert _found(conn, "con-09999-dupdup  ") == ["Reader"]
    try:
        _insert(conn, [("Second", "CON-09999-DUPDUP ")], start=1)
    except sqlite3.IntegrityError as error:
        assert "msdynce_contactnumber" in str(error)
    else:
        raise AssertionError("a key differing by a trailing space was stored twice")
    assert _found(conn, " CON-09999-DUPDUP") == []  # leading spaces count
