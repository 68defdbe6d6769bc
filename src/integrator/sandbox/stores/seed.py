"""Realistic, reproducible Sales data, written in bulk (``integrator sandbox seed``).

Rows go in with ``executemany`` in large chunks inside one transaction. Per-row triggers would
triple the cost of a million contacts, so the seed fills in what they maintain itself
(``fullname``, ``createdon``/``modifiedon``, ``versionnumber``; with the P2C solution the numbers,
Is Active Customer and IsCompanyAnAccount) with Sales' triggers dropped for the transaction,
then puts the triggers back and moves the version counter and the number sequences past the
rows written. The result is the rows the triggers would have produced (a test compares both
ways), and the data is valid by construction. Without the solution, contacts and accounts get
no number and no P2C flags, as before the solution. Same random seed, same rows.
"""

# SQL here names the seed's own tables and columns, never outside input.
# ruff: noqa: S608

from __future__ import annotations

import itertools
import random
import sqlite3
import time
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from integrator.sandbox.stores._seed_data import REGIONS, WORDS, Region
from integrator.sandbox.stores.changes import current_version
from integrator.sandbox.stores.solution import (
    RANDSTRING_ALPHABET,
    autonumber_next,
    format_autonumber,
    set_autonumber_seed,
)
from integrator.sandbox.stores.store import SandboxStore

__all__ = ["SeedReport", "seed_sales"]

CHUNK = 20_000
#: share of contacts with a quote, order or invoice (they become active customers)
ACTIVE_SHARE = 1 / 3

_ACCOUNT_COLUMNS = (
    "accountid", "name", "accountnumber", "telephone1", "fax", "emailaddress1", "websiteurl",
    "address1_line1", "address1_city", "address1_stateorprovince", "address1_postalcode",
    "address1_county", "address1_country", "statecode",
)  # fmt: skip
_CONTACT_COLUMNS = (
    "contactid", "firstname", "middlename", "lastname", "emailaddress1", "telephone1",
    "mobilephone", "fax", "jobtitle", "accountrolecode", "parentcustomerid",
    "parentcustomeridtype", "address1_line1", "address1_city", "address1_stateorprovince",
    "address1_postalcode", "address1_county", "address1_country", "msdynce_contactnumber",
    "msdynce_isactivecustomer", "statecode", "fullname", "msdynce_iscompanyanaccount",
)  # fmt: skip
_STAMP_COLUMNS = ("createdon", "modifiedon", "versionnumber")
_SALES_TABLES = ("accounts", "contacts", "quotes", "salesorders", "invoices")
#: entity set, key, number column, number prefix, share of documents
_DOCUMENTS = (
    ("quotes", "quoteid", "quotenumber", "QUO", 0.5),
    ("salesorders", "salesorderid", "ordernumber", "ORD", 0.3),
    ("invoices", "invoiceid", "invoicenumber", "INV", 0.2),
)


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


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


@cache
def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


@cache
def _digit_format(pattern: str) -> tuple[str, int]:
    return pattern.replace("{", "{{").replace("}", "}}").replace("#", "{}"), pattern.count("#")


class _Faker:
    """Draws realistic values from one ``random.Random``: the only source of randomness."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.cum_weights = list(itertools.accumulate(r.weight for r in REGIONS))

    def region(self) -> Region:
        return self.rng.choices(REGIONS, cum_weights=self.cum_weights)[0]

    def digits(self, pattern: str) -> str:
        fmt, n = _digit_format(pattern)
        return fmt.format(*f"{self.rng.randrange(10**n):0{n}d}") if n else pattern

    def maybe(self, share: float, value: Any) -> Any:
        """``value`` with probability ``share``, else ``None``."""
        return value if self.rng.random() < share else None

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def randstring(self) -> str:
        return "".join(self.rng.choices(RANDSTRING_ALPHABET, k=6))

    def address(self, r: Region) -> tuple[Any, ...]:
        rng = self.rng
        city, state, county, postal = rng.choice(r.cities)
        street = rng.choice(r.street_patterns).format(
            n=rng.randrange(1, 400), s=rng.choice(r.street_names)
        )
        return (
            self.maybe(0.92, street),
            self.maybe(0.95, city),
            self.maybe(0.9, state),
            self.maybe(0.9, self.digits(postal)),
            county,
            rng.choice(r.countries),
        )


def _accounts(f: _Faker, count: int, number_from: int | None) -> Iterator[tuple[Any, ...]]:
    rng = f.rng
    for i in range(count):
        r = f.region()
        name = rng.choice(r.company_patterns).format(
            w=rng.choice(WORDS), l=rng.choice(r.last_names)
        )
        slug = _ascii(name)[:20] or "company"
        number = None
        if number_from is not None:
            number = format_autonumber("ACC", number_from + i, f.randstring())
        yield (
            f.guid(),
            name,
            number,
            f.maybe(0.85, f.digits(r.phone_pattern)),
            f.maybe(0.2, f.digits(r.phone_pattern)),
            f.maybe(0.8, f"info@{slug}.{r.email_domain}"),
            f.maybe(0.6, f"https://www.{slug}.{r.email_domain}"),
            *f.address(r),
            0 if rng.random() < 0.95 else 1,
        )


@dataclass
class _ContactDraft:
    row: list[Any]
    documents: int


def _contacts(
    f: _Faker,
    count: int,
    number_from: int | None,
    solution: bool,
    account_ids: Sequence[str],
) -> Iterator[_ContactDraft]:
    rng = f.rng
    recent: list[str] = []
    for i in range(count):
        r = f.region()
        first, last = rng.choice(r.first_names), rng.choice(r.last_names)
        local = ".".join(p for p in (_ascii(first), _ascii(last)) if p) or "contact"
        route = rng.random()
        parent, parent_type = None, None
        if route < 0.55 and account_ids:
            parent, parent_type = rng.choice(account_ids), "account"
        elif route < 0.70 and recent:
            parent, parent_type = rng.choice(recent), "contact"
        documents = 0
        if rng.random() < ACTIVE_SHARE:
            documents = 2 if rng.random() < 0.25 else 1
        number = None
        if number_from is not None:
            number = format_autonumber("CON", number_from + i, f.randstring())
        contact_id = f.guid()
        middle, last_name = f.maybe(0.15, rng.choice(r.first_names)), f.maybe(0.98, last)
        company_is_account = None
        if solution:
            company_is_account = 1 if parent_type == "account" else 0
        yield _ContactDraft(
            [
                contact_id,
                first,
                middle,
                last_name,
                f.maybe(0.9, f"{local}{rng.randrange(100)}@{r.email_domain}"),
                f.maybe(0.85, f.digits(r.phone_pattern)),
                f.maybe(0.5, f.digits(r.phone_pattern)),
                f.maybe(0.1, f.digits(r.phone_pattern)),
                f.maybe(0.7, rng.choice(r.job_titles)),
                rng.choices((1, 2, 3, None), weights=(30, 40, 15, 15))[0],
                parent,
                parent_type,
                *f.address(r),
                number,
                (1 if documents else 0) if solution else None,
                0 if rng.random() < 0.97 else 1,
                fullname(first, middle, last_name),
                company_is_account,
            ],
            documents,
        )
        recent.append(contact_id)
        if len(recent) > 1000:
            recent.pop(0)


def _document(
    f: _Faker, customer: str, customer_type: str, seq: dict[str, int]
) -> tuple[str, tuple[Any, ...]]:
    rng = f.rng
    table, _, _, prefix, _ = rng.choices(_DOCUMENTS, weights=[d[4] for d in _DOCUMENTS])[0]
    seq[table] += 1
    number = f"{prefix}-{seq[table]:07d}"
    amount = round(rng.uniform(50, 50_000), 2)
    return table, (f.guid(), f"{number} {rng.choice(WORDS)}", number, amount, 0, customer,
                   customer_type)  # fmt: skip


def fullname(*names: str | None) -> str | None:
    """The ``fullname`` the upkeep trigger computes: the non-blank names joined by spaces."""
    joined = " ".join(n.strip(" ") for n in names if n is not None and n.strip(" "))
    return joined or None


def _now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class _Writer:
    """Inserts rows with what the upkeep triggers maintain already filled in, in order.

    Each row takes the next version, as the insert trigger would. With ``bypass`` the Sales
    triggers are dropped for the transaction and put back by :meth:`finish`, with the version
    counter moved past the rows written; otherwise the triggers run and recompute the same.
    """

    def __init__(self, conn: sqlite3.Connection, *, bypass: bool) -> None:
        self.conn = conn
        self.version = current_version(conn)
        self.now = _now()
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
            stamped.append((*row, self.now, self.now, self.version))
        self.conn.executemany(_insert_sql(table, (*columns, *_STAMP_COLUMNS)), stamped)

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
    f = _Faker(random.Random(f"{random_seed}:{start_state[0]}:{start_state[1]}"))
    acc_from = autonumber_next(conn, "account", "accountnumber") if solution else None
    con_from = autonumber_next(conn, "contact", "msdynce_contactnumber") if solution else None
    doc_seq = {d[0]: _count(conn, d[0]) for d in _DOCUMENTS}
    added = dict.fromkeys(doc_seq, 0)
    writer = _Writer(conn, bypass=bypass_triggers)
    doc_columns = {
        table: (key, "name", number, "totalamount", "statecode", "customerid", "customeridtype")
        for table, key, number, _, _ in _DOCUMENTS
    }

    def insert_documents(docs: dict[str, list[tuple[Any, ...]]]) -> None:
        for table, rows in docs.items():
            writer.insert(table, doc_columns[table], rows)
            added[table] += len(rows)

    account_ids: list[str] = []
    account_docs: dict[str, list[tuple[Any, ...]]] = {d[0]: [] for d in _DOCUMENTS}
    rows = _accounts(f, accounts, acc_from)
    while chunk := list(itertools.islice(rows, CHUNK)):
        writer.insert("accounts", _ACCOUNT_COLUMNS, chunk)
        for row in chunk:
            account_ids.append(row[0])
            if f.rng.random() < 0.1:
                table, doc = _document(f, row[0], "account", doc_seq)
                account_docs[table].append(doc)
    if not account_ids:
        account_ids = [r[0] for r in conn.execute("SELECT accountid FROM accounts LIMIT 100000")]
    insert_documents(account_docs)

    drafts = _contacts(f, contacts, con_from, solution, account_ids)
    while chunk_drafts := list(itertools.islice(drafts, CHUNK)):
        writer.insert("contacts", _CONTACT_COLUMNS, [d.row for d in chunk_drafts])
        docs: dict[str, list[tuple[Any, ...]]] = {d[0]: [] for d in _DOCUMENTS}
        for d in chunk_drafts:
            for _ in range(d.documents):
                table, doc = _document(f, d.row[0], "contact", doc_seq)
                docs[table].append(doc)
        insert_documents(docs)

    writer.finish()
    if acc_from is not None and con_from is not None:
        set_autonumber_seed(conn, "account", "accountnumber", acc_from + accounts)
        set_autonumber_seed(conn, "contact", "msdynce_contactnumber", con_from + contacts)
    return added
