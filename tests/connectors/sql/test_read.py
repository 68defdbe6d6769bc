"""read(): only the asked fields, lookups joined in, filters as bound SQL, keyset pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from integrator.connectors.sql import Relation
from integrator.errors import FilterSyntaxError, RequestRejected
from integrator.odata.filter import evaluate, parse_filter

from ..databases import Database

_ACCOUNTS_CONTACTS = """
CREATE TABLE {s}accounts (accountid VARCHAR(10) PRIMARY KEY, accountnumber VARCHAR(20),
    name VARCHAR(100));
CREATE TABLE {s}contacts (contactid VARCHAR(10) PRIMARY KEY, fullname VARCHAR(100),
    parentcustomerid VARCHAR(10), parentcustomeridtype VARCHAR(10));
INSERT INTO {s}accounts VALUES ('a1', 'ACC-1', 'Contoso'), ('a2', 'ACC-2', 'Fabrikam');
INSERT INTO {s}contacts VALUES
    ('c1', 'O''Brien', 'a1', 'account'),
    ('c2', 'Smith & Sons', 'c1', 'contact'),
    ('c3', 'Nobody', NULL, NULL),
    ('c4', 'Orphan', 'a9', 'account'),
    ('c5', 'Same id, other type', 'a2', 'contact');
"""

_PARENT_CUSTOMER = (
    Relation(
        "contacts",
        "parentcustomerid",
        "parentcustomerid",
        "accounts",
        "accountid",
        type_column="parentcustomeridtype",
        type_value="account",
    ),
    Relation(
        "contacts",
        "parentcustomerid",
        "parentcustomerid",
        "contacts",
        "contactid",
        type_column="parentcustomeridtype",
        type_value="contact",
    ),
)


def _all(pages: Iterator[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [r for page in pages for r in page]


@contextmanager
def _statements(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement (and its parameters) the database receives meanwhile."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


def test_polymorphic_lookup_resolves_through_the_declared_type_column(db: Database) -> None:
    db.run(_ACCOUNTS_CONTACTS)
    connector = db.connector(relations=_PARENT_CUSTOMER)

    rows = _all(
        connector.read(
            "contacts",
            ["contactid", "parentcustomerid.accountnumber", "parentcustomerid.fullname"],
        )
    )

    assert rows == [
        {"contactid": "c1", "parentcustomerid.accountnumber": "ACC-1",
         "parentcustomerid.fullname": None},
        {"contactid": "c2", "parentcustomerid.accountnumber": None,
         "parentcustomerid.fullname": "O'Brien"},
        {"contactid": "c3", "parentcustomerid.accountnumber": None,
         "parentcustomerid.fullname": None},
        {"contactid": "c4", "parentcustomerid.accountnumber": None,
         "parentcustomerid.fullname": None},
        {"contactid": "c5", "parentcustomerid.accountnumber": None,
         "parentcustomerid.fullname": None},
    ]  # fmt: skip


def test_filter_on_a_lookup_is_pushed_into_the_same_query(db: Database) -> None:
    db.run(_ACCOUNTS_CONTACTS)
    connector = db.connector(relations=_PARENT_CUSTOMER)
    connector.describe("contacts")  # reflection's own queries are not counted

    with _statements(db) as seen:
        rows = _all(
            connector.read(
                "contacts", ["contactid"], filter="parentcustomerid/accountnumber eq 'ACC-1'"
            )
        )

    assert rows == [{"contactid": "c1"}]
    selects = [s for s, _ in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1
    assert "LEFT OUTER JOIN" in selects[0]


def test_dataverse_navigation_names_pick_one_target(db: Database) -> None:
    db.run(_ACCOUNTS_CONTACTS)
    connector = db.connector(relations=_PARENT_CUSTOMER)

    rows = _all(
        connector.read(
            "contacts",
            ["contactid", "parentcustomerid_contact.fullname"],
            filter="parentcustomerid_account/name eq 'Contoso'"
            " or parentcustomerid_contact/contactid ne null",
        )
    )

    assert rows == [
        {"contactid": "c1", "parentcustomerid_contact.fullname": None},
        {"contactid": "c2", "parentcustomerid_contact.fullname": "O'Brien"},
    ]


def test_reflected_foreign_key_is_a_lookup(db: Database) -> None:
    db.run(
        "CREATE TABLE {s}groups (id VARCHAR(4) PRIMARY KEY, name VARCHAR(20));"
        "CREATE TABLE {s}customers (account VARCHAR(8) PRIMARY KEY,"
        " group_id VARCHAR(4) REFERENCES {s}groups (id));"
        "INSERT INTO {s}groups VALUES ('10', 'Retail');"
        "INSERT INTO {s}customers VALUES ('C1', '10'), ('C2', NULL);"
    )

    rows = _all(db.connector().read("customers", ["account", "group_id.name"]))

    assert rows == [
        {"account": "C1", "group_id.name": "Retail"},
        {"account": "C2", "group_id.name": None},
    ]


def test_filter_values_are_bound_never_written_into_the_sql(db: Database) -> None:
    db.run(_ACCOUNTS_CONTACTS)
    connector = db.connector()

    with _statements(db) as seen:
        rows = _all(
            connector.read(
                "contacts",
                ["contactid", "fullname"],
                filter="fullname eq 'O''Brien' or fullname eq 'Smith & Sons'",
            )
        )

    assert [r["contactid"] for r in rows] == ["c1", "c2"]
    statement, parameters = seen[-1]
    assert "Brien" not in statement and "Smith" not in statement
    assert "O'Brien" in str(parameters) and "Smith & Sons" in str(parameters)


def test_pages_by_keyset_never_offset_and_with_a_composite_key(db: Database) -> None:
    db.run(
        "CREATE TABLE {s}lines (company VARCHAR(4), number INTEGER, qty INTEGER,"
        " PRIMARY KEY (company, number));"
    )
    with db.engine.begin() as connection:
        table = sa.Table("lines", sa.MetaData(), autoload_with=connection, schema=db.schema)
        connection.execute(
            sa.insert(table),
            [{"company": c, "number": n, "qty": n} for c in ("usmf", "demf") for n in range(50)],
        )
    connector = db.connector()
    connector.describe("lines")

    with _statements(db) as seen:
        pages = list(connector.read("lines", ["qty", "company"], page_size=7))

    assert [len(p) for p in pages] == [7] * 14 + [2]
    assert [(r["company"], r["qty"]) for p in pages for r in p] == [
        (c, n) for c in ("demf", "usmf") for n in range(50)
    ]
    # SQLite's compiler writes LIMIT ? OFFSET ? with an offset of 0: nothing is skipped over
    assert all(
        "OFFSET" not in statement.upper() or list(parameters)[-1] == 0
        for statement, parameters in seen
    )
    assert all(set(r) == {"qty", "company"} for p in pages for r in p)


def test_a_table_without_a_key_is_read_whole(db: Database) -> None:
    db.run(
        "CREATE TABLE {s}log (message VARCHAR(20), level INTEGER);"
        "INSERT INTO {s}log VALUES ('a', 1), ('b', 2), ('c', 3), ('d', 4), ('e', 5);"
    )

    pages = list(db.connector().read("log", ["message"], filter="level ge 2", page_size=2))

    assert sorted(r["message"] for p in pages for r in p) == ["b", "c", "d", "e"]
    assert all(len(p) <= 2 for p in pages)


def test_values_come_back_json_compatible(db: Database) -> None:
    db.run(
        "CREATE TABLE {s}v (id INTEGER PRIMARY KEY, amount NUMERIC(10, 2), flag BOOLEAN,"
        " at TIMESTAMP, day DATE);"
        "INSERT INTO {s}v VALUES (1, 12.50, true, '2024-05-01 10:30:00', '2024-05-01');"
    )

    (row,) = _all(db.connector().read("v", ["amount", "flag", "at", "day"]))

    assert row["amount"] == 12.5 and isinstance(row["amount"], float | int)
    assert row["flag"] is True
    assert str(row["at"]).startswith("2024-05-01") and "10:30:00" in str(row["at"])
    assert row["day"] == "2024-05-01"


def test_unknown_fields_are_rejected_with_their_name(db: Database) -> None:
    db.run(_ACCOUNTS_CONTACTS)
    connector = db.connector()

    with pytest.raises(RequestRejected, match="no field 'nope'") as caught:
        _all(connector.read("contacts", ["contactid", "nope"]))
    assert caught.value.code == "unknown-field"
    with pytest.raises(RequestRejected, match="'missing'"):
        _all(connector.read("contacts", ["contactid"], filter="missing eq 1"))
    with pytest.raises(RequestRejected, match=r"'parentcustomerid\.name'"):
        _all(connector.read("contacts", ["parentcustomerid.name"]))
    with pytest.raises(FilterSyntaxError):
        _all(connector.read("contacts", ["contactid"], filter="fullname eq"))


def test_case_insensitive_filters_when_configured(db: Database) -> None:
    db.run(_ACCOUNTS_CONTACTS)

    exact = _all(db.connector().read("contacts", ["contactid"], filter="fullname eq 'o''brien'"))
    folded = _all(
        db.connector(case_insensitive_filters=True).read(
            "contacts", ["contactid"], filter="fullname eq 'o''brien'"
        )
    )

    assert exact == []
    assert folded == [{"contactid": "c1"}]


@pytest.mark.parametrize(
    "text",
    [
        "at gt 2024-01-01T00:00:00Z",
        "at ge 2024-01-01T00:00:00.500Z",
        "at eq 2024-01-02T00:00:00Z",
        "at lt 2024-01-02T00:00:00Z or at eq null",
        "day eq 2024-01-01",
        "day gt 2024-01-01",
    ],
)
def test_date_and_time_filters_compare_moments_not_text(db: Database, text: str) -> None:
    at_type = "TEXT" if db.dialect == "sqlite" else "TIMESTAMPTZ"
    db.run(f"CREATE TABLE {{s}}events (id INTEGER PRIMARY KEY, at {at_type}, day DATE);")
    db.run(
        "INSERT INTO {s}events VALUES (1, '2024-01-01T00:00:00.500Z', '2024-01-01'),"
        " (2, '2024-01-02T00:00:00Z', '2024-01-02'), (3, '2024-01-01T00:00:00Z', '2024-01-01'),"
        " (4, NULL, NULL);"
    )
    connector = db.connector()
    everything = _all(connector.read("events", ["id", "at", "day"]))
    expr = parse_filter(text)

    got = _all(connector.read("events", ["id", "at", "day"], filter=text))

    expected = [r for r in everything if evaluate(expr, r)]
    assert got == expected
    assert 0 < len(expected) < len(everything)


@pytest.mark.postgres
def test_guid_literals_match_uuid_columns(postgres_db: Database) -> None:
    postgres_db.run(
        "CREATE TABLE {s}things (id UUID PRIMARY KEY, name TEXT);"
        "INSERT INTO {s}things VALUES ('6f1c1c8e-0c7a-4d0e-9a53-1f0e2b1d2c3a', 'one'),"
        " ('0b6f0a4e-3a1f-4c8e-8b1e-9d3c2a1b0f9e', 'two');"
    )

    rows = _all(
        postgres_db.connector().read(
            "things", ["id", "name"], filter="id eq 6f1c1c8e-0c7a-4d0e-9a53-1f0e2b1d2c3a"
        )
    )

    assert rows == [{"id": "6f1c1c8e-0c7a-4d0e-9a53-1f0e2b1d2c3a", "name": "one"}]
