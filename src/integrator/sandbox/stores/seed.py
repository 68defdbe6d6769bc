"""Realistic, reproducible Sales data, written in bulk (``integrator sandbox seed``).

Rows go in with ``executemany`` in large chunks inside one transaction. Per-row triggers would
triple the cost of a million contacts, so the seed fills in what they maintain itself
(``fullname``, ``createdon``/``modifiedon``, ``versionnumber``; with the P2C solution the numbers,
Is Active Customer and IsCompanyAnAccount) with Sales' triggers dropped for the transaction,
then puts the triggers back and moves the version counter and the number sequences past the
rows written. The result is the rows the triggers would have produced (a test compares both
ways), and the data is valid by construction. Without the solution, contacts and accounts get
no number and no P2C flags, as before the solution. Same random seed, same rows.

One difference from triggered inserts, on purpose: ``createdon`` (and ``modifiedon``) spread
over the last :data:`HISTORY` in insertion order, with runs of rows sharing one instant, as in
a table filled over time; the triggers would give every row the moment of the seed. Reads cut
by ``createdon`` ranges need that spread to be tested.
"""

# SQL here names the seed's own tables and columns, never outside input.
# ruff: noqa: S608

from __future__ import annotations

import itertools
import random
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from integrator.sandbox.stores._seed_rows import (
    ACCOUNT_COLUMNS,
    CONTACT_COLUMNS,
    DOCUMENTS,
    Faker,
    account_rows,
    contact_drafts,
    document_row,
    insert_sql,
)
from integrator.sandbox.stores.changes import current_version
from integrator.sandbox.stores.solution import autonumber_next, set_autonumber_seed
from integrator.sandbox.stores.store import SandboxStore

__all__ = ["SeedReport", "seed_sales"]

CHUNK = 20_000
_STAMP_COLUMNS = ("createdon", "modifiedon", "versionnumber")
_SALES_TABLES = ("accounts", "contacts", "quotes", "salesorders", "invoices")


@dataclass(frozen=True)
class SeedReport:
    """What :func:`seed_sales` added, and how long it took."""

    accounts: int
    contacts: int
    quotes: int
    salesorders: int
    invoices: int
    seconds: float

    def summary(self) -> str:
        """One line for people."""
        return (
            f"added {self.accounts} accounts, {self.contacts} contacts, {self.quotes} quotes,"
            f" {self.salesorders} orders, {self.invoices} invoices in {self.seconds:.1f} s"
        )


#: how far back the seeded rows' ``createdon`` starts: the data looks as if created over time
HISTORY = timedelta(days=30)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _CreatedOn:
    """``createdon`` of the rows written, in order: from :data:`HISTORY` ago towards now, in
    runs of 1-20 rows sharing one instant (as rows created together do), runs up to 5 s apart,
    never past now. Its own random numbers, so the rows' other values stay as they were."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.moment = now - HISTORY
        self.left = 0
        self.text = _stamp(self.moment)

    def next(self) -> str:
        if self.left == 0:
            self.left = self.rng.randint(1, 20)
            step = timedelta(milliseconds=self.rng.randint(1, 5000))
            self.moment = min(self.moment + step, self.now)
            self.text = _stamp(self.moment)
        self.left -= 1
        return self.text


class _Writer:
    """Inserts rows with what the upkeep triggers maintain already filled in, in order.

    Each row takes the next version, as the insert trigger would. With ``bypass`` the Sales
    triggers are dropped for the transaction and put back by :meth:`finish`, with the version
    counter moved past the rows written; otherwise the triggers run and recompute the same.
    """

    def __init__(self, conn: sqlite3.Connection, *, bypass: bool, created: random.Random) -> None:
        self.conn = conn
        self.version = current_version(conn)
        self.created = _CreatedOn(created, datetime.now(UTC))
        self.triggers: list[str] = []
        if bypass:
            names = ", ".join(f"'{t}'" for t in _SALES_TABLES)
            found = conn.execute(
                "SELECT name, sql FROM sqlite_master"
                f" WHERE type = 'trigger' AND tbl_name IN ({names})"
            ).fetchall()
            for name, sql in found:
                conn.execute(f'DROP TRIGGER "{name}"')
                self.triggers.append(sql)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        stamped = []
        for row in rows:
            self.version += 1
            created = self.created.next()
            stamped.append((*row, created, created, self.version))
        self.conn.executemany(insert_sql(table, (*columns, *_STAMP_COLUMNS)), stamped)

    def finish(self) -> None:
        if self.triggers:
            for sql in self.triggers:
                self.conn.execute(sql)
            self.conn.execute("UPDATE _ct_version SET version = ? WHERE id = 1", (self.version,))


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def seed_sales(
    data_dir: Path | str, *, accounts: int, contacts: int, random_seed: int = 0
) -> SeedReport:
    """Add ``accounts`` accounts and ``contacts`` contacts (and their documents) to Sales.

    Opens (creating if needed) the sandbox in ``data_dir`` without changing whether the P2C
    solution is installed. About a third of the contacts get a quote, order or invoice; their
    company is an account, another contact or nothing; names, addresses and country spellings
    come from several countries. Same ``random_seed`` and same starting data => same rows;
    seeding a directory that has data adds rows (numbers continue). One transaction: all or
    nothing.
    """
    if accounts < 0 or contacts < 0:
        raise ValueError("accounts and contacts must not be negative")
    started = time.perf_counter()
    store = SandboxStore.open(data_dir, with_solution=None)
    conn = store.connect("sales")
    # the random GUID keys make index inserts scattered: keep the indexes in memory
    conn.execute("PRAGMA cache_size = -524288")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            counts = _seed(conn, store.with_solution, accounts, contacts, random_seed)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
    return SeedReport(
        accounts, contacts, counts["quotes"], counts["salesorders"], counts["invoices"],
        time.perf_counter() - started,
    )  # fmt: skip


def _seed(
    conn: sqlite3.Connection,
    solution: bool,
    accounts: int,
    contacts: int,
    random_seed: int,
    *,
    bypass_triggers: bool = True,
) -> dict[str, int]:
    start_state = (_count(conn, "accounts"), _count(conn, "contacts"))
    state = f"{random_seed}:{start_state[0]}:{start_state[1]}"
    f = Faker(random.Random(state))
    acc_from = autonumber_next(conn, "account", "accountnumber") if solution else None
    con_from = autonumber_next(conn, "contact", "msdynce_contactnumber") if solution else None
    doc_seq = {d[0]: _count(conn, d[0]) for d in DOCUMENTS}
    added = dict.fromkeys(doc_seq, 0)
    writer = _Writer(conn, bypass=bypass_triggers, created=random.Random(f"createdon:{state}"))
    doc_columns = {
        table: (key, "name", number, "totalamount", "statecode", "customerid", "customeridtype")
        for table, key, number, _, _ in DOCUMENTS
    }

    def insert_documents(docs: dict[str, list[tuple[Any, ...]]]) -> None:
        for table, rows in docs.items():
            writer.insert(table, doc_columns[table], rows)
            added[table] += len(rows)

    account_ids: list[str] = []
    account_docs: dict[str, list[tuple[Any, ...]]] = {d[0]: [] for d in DOCUMENTS}
    rows = account_rows(f, accounts, acc_from)
    while chunk := list(itertools.islice(rows, CHUNK)):
        writer.insert("accounts", ACCOUNT_COLUMNS, chunk)
        for row in chunk:
            account_ids.append(row[0])
            if f.rng.random() < 0.1:
                table, doc = document_row(f, row[0], "account", doc_seq)
                account_docs[table].append(doc)
    if not account_ids:
        account_ids = [r[0] for r in conn.execute("SELECT accountid FROM accounts LIMIT 100000")]
    insert_documents(account_docs)

    drafts = contact_drafts(f, contacts, con_from, solution, account_ids)
    while chunk_drafts := list(itertools.islice(drafts, CHUNK)):
        writer.insert("contacts", CONTACT_COLUMNS, [d.row for d in chunk_drafts])
        docs: dict[str, list[tuple[Any, ...]]] = {d[0]: [] for d in DOCUMENTS}
        for d in chunk_drafts:
            for _ in range(d.documents):
                table, doc = document_row(f, d.row[0], "contact", doc_seq)
                docs[table].append(doc)
        insert_documents(docs)

    writer.finish()
    if acc_from is not None and con_from is not None:
        set_autonumber_seed(conn, "account", "accountnumber", acc_from + accounts)
        set_autonumber_seed(conn, "contact", "msdynce_contactnumber", con_from + contacts)
    return added
