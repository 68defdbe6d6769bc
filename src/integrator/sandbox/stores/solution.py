"""The Sales P2C solution as SQLite triggers: numbering, Is Active Customer, IsCompanyAnAccount.

- ``msdynce_contactnumber`` / ``accountnumber``: a row created without one gets
  ``CON-``/``ACC-{SEQNUM:5}-{RANDSTRING:6}`` from the ``_autonumber`` sequence (first value
  01000; RANDSTRING from A-Z and 0-9). SQLite has one writer at a time and the sequence moves in
  the creating transaction, so numbers are unique under concurrent creates.
  :func:`set_autonumber_seed` moves the sequence as Dataverse's ``SetAutoNumberSeed`` does.
- ``msdynce_isactivecustomer``: false on a new contact unless it already is the customer of a
  quote, order or invoice; set to true when one is created or re-pointed at the contact.
- ``msdynce_iscompanyanaccount``: true iff ``parentcustomerid`` points at an account, kept right
  on every create and update.

Without the solution none of this runs (the columns stay as written), as in a Sales system
before the solution was applied.
"""

# SQL here is generated from the service descriptions, never from request values.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from integrator.sandbox.stores.ddl import quote

__all__ = [
    "AUTONUMBERS",
    "AutoNumber",
    "autonumber_next",
    "format_autonumber",
    "set_autonumber_seed",
]

RANDSTRING_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
FIRST_SEQNUM = 1000


@dataclass(frozen=True)
class AutoNumber:
    """An autonumber column: its entity (logical name), table, attribute and prefix."""

    entity_name: str
    table: str
    attribute_name: str
    prefix: str


AUTONUMBERS = (
    AutoNumber("contact", "contacts", "msdynce_contactnumber", "CON"),
    AutoNumber("account", "accounts", "accountnumber", "ACC"),
)

AUTONUMBER_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS _autonumber ("
    " entity_name TEXT NOT NULL, attribute_name TEXT NOT NULL, next_value INTEGER NOT NULL,"
    " PRIMARY KEY (entity_name, attribute_name)) STRICT",
    *(
        "INSERT OR IGNORE INTO _autonumber (entity_name, attribute_name, next_value)"
        f" VALUES ('{a.entity_name}', '{a.attribute_name}', {FIRST_SEQNUM})"
        for a in AUTONUMBERS
    ),
)

_RAND_CHAR = f"substr('{RANDSTRING_ALPHABET}', 1 + (random() & 65535) % 36, 1)"
_RANDSTRING6 = " || ".join([_RAND_CHAR] * 6)

DOCUMENT_TABLES = ("quotes", "salesorders", "invoices")


def format_autonumber(prefix: str, seqnum: int, randstring: str) -> str:
    """``{prefix}-{SEQNUM:5}-{RANDSTRING}``: ``format_autonumber("CON", 1000, "BVRCPS")``."""
    return f"{prefix}-{seqnum:05d}-{randstring}"


def _where(a: AutoNumber) -> str:
    return f"entity_name = '{a.entity_name}' AND attribute_name = '{a.attribute_name}'"


def numbering_statements(a: AutoNumber) -> tuple[str, str]:
    """For the AFTER INSERT trigger of ``a.table``: the statement advancing the sequence when
    the new row has no number, and the ``column = expr`` assignment giving it one."""
    col = f"NEW.{quote(a.attribute_name)}"
    advance = (
        f"UPDATE _autonumber SET next_value = next_value + 1 WHERE {_where(a)}"
        f" AND nullif({col}, '') IS NULL;"
    )
    number = (
        f"'{a.prefix}-' || printf('%05d', (SELECT next_value - 1 FROM _autonumber WHERE"
        f" {_where(a)})) || '-' || {_RANDSTRING6}"
    )
    assign = f"{quote(a.attribute_name)} = coalesce(nullif({col}, ''), {number})"
    return advance, assign


def is_active_customer_sql() -> str:
    """Expression (contacts AFTER INSERT) for a new contact's Is Active Customer."""
    docs = " OR ".join(
        f"EXISTS (SELECT 1 FROM {t} WHERE customerid = NEW.contactid"
        " AND customeridtype = 'contact')"
        for t in DOCUMENT_TABLES
    )
    return f"CASE WHEN NEW.msdynce_isactivecustomer = 1 OR {docs} THEN 1 ELSE 0 END"


IS_COMPANY_AN_ACCOUNT_SQL = (
    "CASE WHEN NEW.parentcustomerid IS NOT NULL AND NEW.parentcustomeridtype = 'account'"
    " THEN 1 ELSE 0 END"
)


def document_triggers_sql() -> list[str]:
    """Triggers marking a contact an active customer when a quote, order or invoice names it."""
    body = (
        "BEGIN\n  UPDATE contacts SET msdynce_isactivecustomer = 1"
        " WHERE contactid = NEW.customerid AND msdynce_isactivecustomer IS NOT 1;\nEND"
    )
    out = []
    for t in DOCUMENT_TABLES:
        out.append(
            f"CREATE TRIGGER p2c_active_ins_{t} AFTER INSERT ON {t}"
            f" WHEN NEW.customeridtype = 'contact' {body}"
        )
        out.append(
            f"CREATE TRIGGER p2c_active_upd_{t} AFTER UPDATE OF customerid, customeridtype ON {t}"
            f" WHEN NEW.customeridtype = 'contact' {body}"
        )
    return out


def set_autonumber_seed(
    conn: sqlite3.Connection, entity_name: str, attribute_name: str, value: int
) -> None:
    """Make ``value`` the next sequence number of an autonumber column (``SetAutoNumberSeed``).

    ``entity_name`` is the logical name (``contact``), ``attribute_name`` the column
    (``msdynce_contactnumber``). Raises ``ValueError`` for an unknown column or a negative value.
    Does not commit: with a store connection (autocommit) the change is immediate.
    """
    if value < 0:
        raise ValueError(f"autonumber seed must not be negative: {value}")
    cur = conn.execute(
        "UPDATE _autonumber SET next_value = ? WHERE entity_name = ? AND attribute_name = ?",
        (value, entity_name, attribute_name),
    )
    if cur.rowcount != 1:
        raise ValueError(f"{entity_name}.{attribute_name} is not an autonumber column")


def autonumber_next(conn: sqlite3.Connection, entity_name: str, attribute_name: str) -> int:
    """The sequence number the next row created without a number will get."""
    row = conn.execute(
        "SELECT next_value FROM _autonumber WHERE entity_name = ? AND attribute_name = ?",
        (entity_name, attribute_name),
    ).fetchone()
    if row is None:
        raise ValueError(f"{entity_name}.{attribute_name} is not an autonumber column")
    return int(row[0])
