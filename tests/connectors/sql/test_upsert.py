"""upsert(): bulk writes, per-record outcomes, and the database's refusals in plain words."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from integrator.connectors.base import Outcome, RecordResult
from integrator.errors import RequestRejected

from ..databases import Database

_SQLITE_CUSTOMERS = """
CREATE TABLE groups (id TEXT PRIMARY KEY);
INSERT INTO groups VALUES ('10'), ('20');
CREATE TABLE parents (pid INTEGER PRIMARY KEY);
INSERT INTO parents VALUES (1);
CREATE TABLE audit (account TEXT);
CREATE TABLE customers (
    account VARCHAR(20) PRIMARY KEY,
    email VARCHAR(100) UNIQUE,
    name VARCHAR(100) NOT NULL,
    CustomerGroupId TEXT,
    credit NUMERIC CHECK (credit >= 0),
    parent INTEGER REFERENCES parents (pid),
    note TEXT
);
CREATE TRIGGER customers_group BEFORE INSERT ON customers
WHEN NEW.CustomerGroupId IS NOT NULL
 AND NOT EXISTS (SELECT 1 FROM groups WHERE id = NEW.CustomerGroupId)
BEGIN SELECT RAISE(ABORT, 'CustomerGroupId does not exist in company'); END;
CREATE TRIGGER customers_audit AFTER INSERT ON customers
BEGIN
    INSERT INTO audit VALUES (NEW.account);
    SELECT RAISE(ABORT, 'note is not allowed here') WHERE NEW.note = 'reject';
END;
"""

_POSTGRES_CUSTOMERS = """
CREATE TABLE {s}groups (id TEXT PRIMARY KEY);
INSERT INTO {s}groups VALUES ('10'), ('20');
CREATE TABLE {s}parents (pid INTEGER PRIMARY KEY);
INSERT INTO {s}parents VALUES (1);
CREATE TABLE {s}audit (account TEXT);
CREATE TABLE {s}customers (
    account VARCHAR(20) PRIMARY KEY,
    email VARCHAR(100) UNIQUE,
    name VARCHAR(100) NOT NULL,
    "CustomerGroupId" TEXT,
    credit NUMERIC(12, 2) CHECK (credit >= 0),
    parent INTEGER REFERENCES {s}parents (pid),
    note TEXT,
    small SMALLINT
);
CREATE FUNCTION {s}customers_group() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW."CustomerGroupId" IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM {s}groups WHERE id = NEW."CustomerGroupId") THEN
        RAISE EXCEPTION 'CustomerGroupId does not exist in company';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER customers_group BEFORE INSERT ON {s}customers
FOR EACH ROW EXECUTE FUNCTION {s}customers_group();
CREATE FUNCTION {s}customers_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {s}audit VALUES (NEW.account);
    IF NEW.note = 'reject' THEN RAISE EXCEPTION 'note is not allowed here'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER customers_audit AFTER INSERT ON {s}customers
FOR EACH ROW EXECUTE FUNCTION {s}customers_audit();
"""


def _customers(db: Database) -> None:
    db.run(_SQLITE_CUSTOMERS if db.dialect == "sqlite" else _POSTGRES_CUSTOMERS)


def _good(n: int) -> dict[str, Any]:
    return {"account": f"C{n:05d}", "name": f"Customer {n}", "CustomerGroupId": "10"}


def _errors(results: list[RecordResult]) -> dict[str, tuple[str | None, str | None]]:
    return {r.key["account"]: (r.field, r.message) for r in results if r.outcome is Outcome.ERROR}


def test_each_refused_record_fails_alone_with_a_readable_reason(db: Database) -> None:
    _customers(db)
    connector = db.connector()
    connector.upsert("customers", [{**_good(0), "email": "taken@example.com"}], key=["account"])
    bad = {
        "C90001": {"CustomerGroupId": "99"},
        "C90002": {"name": None},
        "C90003": {"email": "taken@example.com"},
        "C90004": {"credit": -5},
        "C90005": {"parent": 42},
        "C90006": {"note": "reject"},
        "C90007": {"credit": "lots"},
        "C90008": {"colour": "red"},
    }
    batch = [_good(n) for n in range(1, 200)]
    for n, (account, change) in enumerate(bad.items()):
        batch.insert(10 + 20 * n, {**_good(0), "account": account, **change})

    results = connector.upsert("customers", batch, key=["account"])

    assert [r.key["account"] for r in results] == [r["account"] for r in batch]
    errors = _errors(results)
    assert errors == {
        "C90001": ("CustomerGroupId", "CustomerGroupId '99' does not exist in company"),
        "C90002": ("name", "name is required"),
        "C90003": ("email", "email 'taken@example.com' already exists"),
        "C90004": ("credit", errors["C90004"][1]),
        "C90005": ("parent", errors["C90005"][1]),
        "C90006": ("note", "note 'reject' is not allowed here"),
        "C90007": ("credit", "credit 'lots' is not a number"),
        "C90008": ("colour", "customers has no field 'colour'"),
    }
    assert str(errors["C90004"][1]).startswith("credit -5 breaks the rule")
    assert "credit >= 0" in str(errors["C90004"][1])
    assert errors["C90005"][1] == "parent 42 does not exist in parents"
    assert Counter(r.outcome for r in results) == {Outcome.INSERTED: 199, Outcome.ERROR: 8}
    stored = {a for (a,) in db.rows("SELECT account FROM {s}customers")}
    assert stored == {f"C{n:05d}" for n in range(200)}
    # the rejected rows left nothing behind, not even what their trigger wrote first
    audited = [a for (a,) in db.rows("SELECT account FROM {s}audit")]
    assert sorted(audited) == sorted(stored)


@pytest.mark.postgres
def test_postgres_value_errors_name_the_field(postgres_db: Database) -> None:
    _customers(postgres_db)
    postgres_db.run("ALTER TABLE {s}customers ALTER COLUMN note TYPE VARCHAR(5)")
    batch = [
        {**_good(1), "note": "far too long"},
        {**_good(2), "small": 70000},
        _good(3),
    ]

    results = postgres_db.connector().upsert("customers", batch, key=["account"])

    assert _errors(results) == {
        "C00001": ("note", "note is longer than 5 characters (12)"),
        "C00002": ("small", "small 70000 is out of range (smallint out of range)"),
    }
    assert results[2].outcome is Outcome.INSERTED


def test_binary_travels_as_base64(sqlite_db: Database) -> None:
    sqlite_db.run("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB) STRICT;")
    connector = sqlite_db.connector()

    results = connector.upsert(
        "blobs", [{"id": 1, "data": "not base64!"}, {"id": 2, "data": "AAEC"}], key=["id"]
    )

    assert _errors_by_id(results) == {1: ("data", "data 'not base64!' is not base64 binary")}
    assert results[1].outcome is Outcome.INSERTED
    assert sqlite_db.rows("SELECT data FROM blobs") == [(b"\x00\x01\x02",)]
    assert [r for p in connector.read("blobs", ["data"]) for r in p] == [{"data": "AAEC"}]


def _errors_by_id(results: list[RecordResult]) -> dict[Any, tuple[str | None, str | None]]:
    return {r.key["id"]: (r.field, r.message) for r in results if r.outcome is Outcome.ERROR}


def test_updates_set_only_the_given_fields_and_skip_unchanged_rows(db: Database) -> None:
    _customers(db)
    connector = db.connector()
    connector.upsert(
        "customers",
        [{**_good(1), "note": "keep", "credit": 10}, {**_good(2), "credit": 20.5}],
        key=["account"],
    )

    results = connector.upsert(
        "customers",
        [
            {"account": "C00001", "credit": "10.00"},  # same value, written differently
            {"account": "C00002", "credit": 21},
        ],
        key=["account"],
    )

    assert [r.outcome for r in results] == [Outcome.UNCHANGED, Outcome.UPDATED]
    rows = db.rows("SELECT account, note, credit, name FROM {s}customers ORDER BY account")
    assert [(a, n, float(c), name) for a, n, c, name in rows] == [
        ("C00001", "keep", 10.0, "Customer 1"),
        ("C00002", None, 21.0, "Customer 2"),
    ]


def test_a_key_repeated_in_one_batch_is_applied_in_order(db: Database) -> None:
    _customers(db)

    results = db.connector().upsert(
        "customers",
        [{**_good(1), "note": "first"}, _good(2), {**_good(1), "note": "second"}],
        key=["account"],
    )

    assert [r.outcome for r in results] == [Outcome.INSERTED, Outcome.INSERTED, Outcome.UPDATED]
    assert db.rows("SELECT note FROM {s}customers WHERE account = 'C00001'") == [("second",)]


def test_upsert_by_an_alternate_key(db: Database) -> None:
    _customers(db)
    connector = db.connector()
    connector.upsert("customers", [{**_good(1), "email": "a@example.com"}], key=["account"])

    results = connector.upsert(
        "customers", [{"email": "a@example.com", "note": "found by email"}], key=["email"]
    )

    assert results == [RecordResult({"email": "a@example.com"}, Outcome.UPDATED)]
    assert db.rows("SELECT account, note FROM {s}customers") == [("C00001", "found by email")]


def test_missing_key_values_fail_the_record(db: Database) -> None:
    _customers(db)

    results = db.connector().upsert("customers", [{"name": "no key"}, _good(1)], key=["account"])

    assert results[0] == RecordResult(
        {"account": None}, Outcome.ERROR, "key field account is missing", "account"
    )
    assert results[1].outcome is Outcome.INSERTED


def test_an_unknown_key_field_rejects_the_request(db: Database) -> None:
    _customers(db)

    with pytest.raises(RequestRejected, match="no key field 'nope'"):
        db.connector().upsert("customers", [_good(1)], key=["nope"])


def test_isolating_a_bad_row_costs_a_logarithmic_number_of_statements(db: Database) -> None:
    _customers(db)
    connector = db.connector(batch_size=1000)
    connector.describe("customers")
    batch = [_good(n) for n in range(1000)]
    batch[617] = {**batch[617], "CustomerGroupId": "99"}
    statements: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if not statement.upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")):
            statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    try:
        results = connector.upsert("customers", batch, key=["account"])
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)

    assert list(_errors(results)) == ["C00617"]
    # one SELECT per 500 keys, then a halving search: two writes per level at most
    assert len(statements) <= 2 + 2 * math.ceil(math.log2(1000)) + 1


def test_batches_are_split_by_batch_size_and_results_keep_their_order(db: Database) -> None:
    _customers(db)
    batch = [_good(n) for n in range(250)]
    batch[130] = {**batch[130], "name": None}

    results = db.connector(batch_size=100).upsert("customers", batch, key=["account"])

    assert [r.key["account"] for r in results] == [r["account"] for r in batch]
    assert list(_errors(results)) == ["C00130"]
    assert db.rows("SELECT count(*) FROM {s}customers") == [(249,)]


def test_typed_values_round_trip_and_compare_unchanged(db: Database) -> None:
    moment = "TIMESTAMPTZ" if db.dialect == "postgresql" else "TIMESTAMP"
    guid = "UUID" if db.dialect == "postgresql" else "VARCHAR(36)"
    db.run(
        f"CREATE TABLE {{s}}typed (id {guid} PRIMARY KEY, at {moment}, day DATE,"
        " amount NUMERIC(12, 2), flag BOOLEAN, qty INTEGER, label VARCHAR(10))"
    )
    connector = db.connector()
    records = [
        {
            "id": "6f1c1c8e-0c7a-4d0e-9a53-1f0e2b1d2c3a",
            "at": "2024-03-01T10:15:30.250000Z",
            "day": "2024-03-01",
            "amount": 12.5,
            "flag": True,
            "qty": 7,
            "label": "O'Brien",
        },
        {
            "id": "0b6f0a4e-3a1f-4c8e-8b1e-9d3c2a1b0f9e",
            "at": None,
            "day": None,
            "amount": None,
            "flag": False,
            "qty": None,
            "label": "A & B",
        },
    ]

    first = connector.upsert("typed", records, key=["id"])
    # the same values, written the way another source might send them
    again = connector.upsert(
        "typed",
        [
            {**records[0], "amount": "12.50", "qty": "7", "at": "2024-03-01T10:15:30.25+00:00"},
            {**records[1], "flag": "false"},
        ],
        key=["id"],
    )
    changed = connector.upsert(
        "typed", [{"id": records[1]["id"], "qty": 3, "day": "2024-12-31"}], key=["id"]
    )
    rows = {r["id"]: r for p in connector.read("typed", list(records[0])) for r in p}

    assert [r.outcome for r in first] == [Outcome.INSERTED, Outcome.INSERTED]
    assert [r.outcome for r in again] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    assert [r.outcome for r in changed] == [Outcome.UPDATED]
    one = rows[records[0]["id"]]
    assert (one["day"], one["amount"], one["flag"], one["qty"], one["label"]) == (
        "2024-03-01",
        12.5,
        True,
        7,
        "O'Brien",
    )
    assert str(one["at"]).startswith("2024-03-01") and "10:15:30.25" in str(one["at"])
    two = rows[records[1]["id"]]
    assert (two["qty"], two["day"], two["flag"], two["at"]) == (3, "2024-12-31", False, None)


def test_a_trigger_that_rolls_back_everything_is_reported_not_retried(
    sqlite_db: Database,
) -> None:
    sqlite_db.run(
        "CREATE TABLE strict_rows (id INTEGER PRIMARY KEY, label TEXT);"
        "CREATE TRIGGER strict_rows_check BEFORE INSERT ON strict_rows WHEN NEW.label = 'bad'"
        " BEGIN SELECT RAISE(ROLLBACK, 'label bad rolls everything back'); END;"
    )
    connector = sqlite_db.connector()

    with pytest.raises(RequestRejected, match="label bad rolls everything back") as caught:
        connector.upsert("strict_rows", [{"id": 1, "label": "ok"}, {"id": 2, "label": "bad"}],
                         key=["id"])  # fmt: skip

    assert caught.value.code == "transaction-rolled-back"
    assert sqlite_db.rows("SELECT count(*) FROM strict_rows") == [(0,)]
    assert connector.upsert("strict_rows", [{"id": 3, "label": "ok"}], key=["id"])[0].outcome is (
        Outcome.INSERTED
    )


def test_a_row_a_trigger_silently_drops_is_not_reported_written(db: Database) -> None:
    if db.dialect == "sqlite":
        db.run(
            "CREATE TABLE quiet (id INTEGER PRIMARY KEY, label TEXT);"
            "CREATE TRIGGER quiet_drop BEFORE INSERT ON quiet WHEN NEW.label = 'drop'"
            " BEGIN SELECT RAISE(IGNORE); END;"
        )
    else:
        db.run(
            "CREATE TABLE {s}quiet (id INTEGER PRIMARY KEY, label TEXT);"
            "CREATE FUNCTION {s}quiet_drop() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.label = 'drop' THEN RETURN NULL; END IF; RETURN NEW; END $$;"
            "CREATE TRIGGER quiet_drop BEFORE INSERT ON {s}quiet"
            " FOR EACH ROW EXECUTE FUNCTION {s}quiet_drop();"
        )
    batch = [{"id": n, "label": "drop" if n == 6 else "keep"} for n in range(10)]

    results = db.connector().upsert("quiet", batch, key=["id"])

    assert [r.outcome for r in results] == [Outcome.INSERTED] * 6 + [Outcome.ERROR] + [
        Outcome.INSERTED
    ] * 3
    assert results[6].message is not None and "skipped" in results[6].message
    assert db.rows("SELECT count(*) FROM {s}quiet") == [(9,)]


def _count_writes(connector: Any, entity: str, batch: list[dict[str, Any]]) -> tuple[Any, int]:
    statements: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    try:
        results = connector.upsert(entity, batch, key=["account"])
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
    return results, len(statements)


def test_a_family_of_refusals_is_isolated_without_halving_everything(db: Database) -> None:
    _customers(db)
    connector = db.connector()
    connector.describe("customers")
    batch = [_good(n) for n in range(1000)]
    missing_name = set(range(3, 1000, 4))  # 250 records lack the required name
    for n in missing_name:
        batch[n] = {**batch[n], "name": None}
    batch[500] = {**batch[500], "CustomerGroupId": "99"}

    results, writes = _count_writes(connector, "customers", batch)

    errors = _errors(results)
    assert set(errors) == {f"C{n:05d}" for n in missing_name} | {"C00500"}
    assert all(errors[f"C{n:05d}"] == ("name", "name is required") for n in missing_name)
    assert errors["C00500"][0] == "CustomerGroupId"
    assert db.rows("SELECT count(*) FROM {s}customers") == [(1000 - 251,)]
    # about one statement per refused record, not the ~2000 a blind halving costs
    assert writes < 1.5 * len(errors) + 60


def test_look_alikes_that_the_database_accepts_are_written(sqlite_db: Database) -> None:
    sqlite_db.run(
        "CREATE TABLE parties (account TEXT PRIMARY KEY, kind TEXT, orgname TEXT);"
        "CREATE TRIGGER parties_rule BEFORE INSERT ON parties"
        " WHEN NEW.kind = 'Organization' AND NEW.orgname IS NULL"
        " BEGIN SELECT RAISE(ABORT, 'orgname is required when kind is Organization'); END;"
    )
    batch = [{"account": f"P{n:03d}", "kind": "Person", "orgname": None} for n in range(300)]
    batch[10] = {"account": "P010", "kind": "Organization", "orgname": None}
    batch[250] = {"account": "P250", "kind": "Organization", "orgname": None}

    results, writes = _count_writes(sqlite_db.connector(), "parties", batch)

    assert set(_errors(results)) == {"P010", "P250"}
    assert sqlite_db.rows("SELECT count(*) FROM parties") == [(298,)]
    assert writes < 40


def test_sqlite_carries_on_after_each_refused_row_sending_no_row_twice(
    sqlite_db: Database,
) -> None:
    _customers(sqlite_db)
    connector = sqlite_db.connector(batch_size=1000)
    batch = [_good(n) for n in range(1000)]
    refused = {5, 250, 251, 600, 998}
    for n in refused:
        batch[n] = {**batch[n], "CustomerGroupId": "99"}
    batch[700] = {**batch[700], "note": "reject"}  # an AFTER trigger refuses this one

    results, writes = _count_writes(connector, "customers", batch)

    errors = _errors(results)
    assert set(errors) == {f"C{n:05d}" for n in refused | {700}}
    assert errors["C00700"] == ("note", "note 'reject' is not allowed here")
    assert sqlite_db.rows("SELECT count(*) FROM customers") == [(994,)]
    # the refused rows' triggers left nothing behind: the audit holds the written rows only
    assert sqlite_db.rows("SELECT count(*) FROM audit") == [(994,)]
    # per group of columns (the row with a note is a group of its own): one executemany, then
    # one more from the row after each refused row; nothing is sent twice
    assert writes == (1 + len(refused)) + 1
    again, writes_again = _count_writes(connector, "customers", batch)
    assert _errors(again) == errors
    assert writes_again == len(refused) + 1  # only the refused rows are written again


def test_sqlite_tables_where_rows_can_vanish_are_isolated_the_sure_way(
    sqlite_db: Database,
) -> None:
    sqlite_db.run(
        "CREATE TABLE plain (id INTEGER PRIMARY KEY, label TEXT);"
        "CREATE TABLE quiet (id INTEGER PRIMARY KEY, label TEXT);"
        "CREATE TRIGGER quiet_drop BEFORE INSERT ON quiet WHEN NEW.label = 'drop'"
        " BEGIN SELECT RAISE(IGNORE); END;"
        "CREATE TABLE lenient (id INTEGER PRIMARY KEY, label TEXT UNIQUE ON CONFLICT IGNORE);"
        "CREATE TABLE halfway (id INTEGER PRIMARY KEY, label TEXT NOT NULL ON CONFLICT FAIL);"
        "CREATE VIEW plain_view AS SELECT id, label FROM plain;"
    )
    connector = sqlite_db.connector()

    modes = {
        name: connector._model(name).continues_after_refusal
        for name in ("plain", "quiet", "lenient", "halfway")
    }

    assert modes == {"plain": True, "quiet": False, "lenient": False, "halfway": False}
