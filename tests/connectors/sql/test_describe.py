"""describe(): what reflection tells about a table, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from integrator.errors import RequestRejected

from ..databases import Database

_DDL = """
CREATE TABLE {s}parents (pid INTEGER PRIMARY KEY, code VARCHAR(10) NOT NULL UNIQUE);
CREATE TABLE {s}items (
    id {autoid},
    code VARCHAR(20) NOT NULL,
    company VARCHAR(4) NOT NULL,
    title VARCHAR(100) NOT NULL DEFAULT 'untitled',
    amount NUMERIC(12, 2),
    qty INTEGER NOT NULL,
    flag BOOLEAN,
    created TIMESTAMP,
    parent_id INTEGER REFERENCES {s}parents (pid),
    note TEXT,
    UNIQUE (company, code)
);
CREATE UNIQUE INDEX items_note ON {s}items (note);
"""


def test_describe_reports_types_lengths_required_and_keys(db: Database) -> None:
    autoid = "INTEGER PRIMARY KEY" if db.dialect == "sqlite" else "SERIAL PRIMARY KEY"
    db.run(_DDL.replace("{autoid}", autoid))

    info = db.connector().describe("items")

    assert info.name == "items"
    assert info.key == ("id",)
    assert set(info.alternate_keys) == {("company", "code"), ("note",)}
    fields = info.fields
    assert {n: f.type for n, f in fields.items()} == {
        "id": "integer",
        "code": "string",
        "company": "string",
        "title": "string",
        "amount": "decimal",
        "qty": "integer",
        "flag": "boolean",
        "created": "datetime",
        "parent_id": "lookup",
        "note": "string",
    }
    assert fields["code"].max_length == 20
    assert fields["company"].max_length == 4
    assert fields["note"].max_length is None
    assert fields["parent_id"].lookup_targets == ("parents",)
    # the autoincrement key and a column with a default are not required of a new record
    assert sorted(info.required_fields()) == ["code", "company", "qty"]


def test_a_key_without_autoincrement_is_required(db: Database) -> None:
    db.run("CREATE TABLE {s}codes (code VARCHAR(8) PRIMARY KEY, label TEXT);")

    info = db.connector().describe("codes")

    assert info.key == ("code",)
    assert info.required_fields() == ["code"]


@pytest.mark.postgres
def test_generated_and_identity_columns_are_read_only_or_optional(postgres_db: Database) -> None:
    postgres_db.run(
        "CREATE TABLE {s}lines (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        " qty INTEGER NOT NULL, price NUMERIC(10, 2) NOT NULL,"
        " total NUMERIC(12, 2) GENERATED ALWAYS AS (qty * price) STORED,"
        " kind VARCHAR(5) NOT NULL DEFAULT 'std', ref UUID)"
    )

    info = postgres_db.connector().describe("lines")

    assert info.fields["total"].read_only
    assert info.fields["id"].read_only
    assert info.fields["ref"].type == "guid"
    assert sorted(info.required_fields()) == ["price", "qty"]


def test_describe_an_unknown_table_is_rejected(db: Database) -> None:
    with pytest.raises(RequestRejected, match="no table 'nowhere'") as caught:
        db.connector().describe("nowhere")
    assert caught.value.code == "unknown-entity"
