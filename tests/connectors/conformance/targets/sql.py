"""SQL targets: a SQLite file and a PostgreSQL schema, each with a contacts table whose group
must exist (a trigger that RAISEs, as the sandbox's stores do) and a watermark column."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from integrator.connectors.base import Connector, Record
from integrator.connectors.sql import SqlConnector

from ...databases import POSTGRES_URL, postgres_engine
from ..target import AWKWARD_TEXT, BadRecord, ConformanceTarget, standard_filters

__all__ = ["postgres_target", "sqlite_target"]

_CITIES = ("Paris", "Lyon", "D'Arcy", "Salt & Pepper", "Berlin", "Oslo", "paris")
_GROUPS = ("10", "20", "30")
#: rows loaded with the same watermark value: ties span pages
_TIE_RUN = 300
_T0 = datetime(2024, 1, 1, tzinfo=UTC)

_SQLITE_DDL = """
CREATE TABLE groups (id VARCHAR(10) PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO groups VALUES ('10', 'Ten'), ('20', 'Twenty'), ('30', 'Thirty');
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    number VARCHAR(20) NOT NULL UNIQUE,
    name VARCHAR(100) NOT NULL,
    city VARCHAR(60),
    credit NUMERIC CHECK (credit >= 0),
    active BOOLEAN NOT NULL DEFAULT 0,
    group_id VARCHAR(10) NOT NULL,
    modifiedon TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TRIGGER contacts_group_insert BEFORE INSERT ON contacts
WHEN NOT EXISTS (SELECT 1 FROM groups WHERE id = NEW.group_id)
BEGIN SELECT RAISE(ABORT, 'group_id does not exist in groups'); END;
CREATE TRIGGER contacts_group_update BEFORE UPDATE OF group_id ON contacts
WHEN NOT EXISTS (SELECT 1 FROM groups WHERE id = NEW.group_id)
BEGIN SELECT RAISE(ABORT, 'group_id does not exist in groups'); END;
"""

_POSTGRES_DDL = """
CREATE TABLE {s}.groups (id VARCHAR(10) PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO {s}.groups VALUES ('10', 'Ten'), ('20', 'Twenty'), ('30', 'Thirty');
CREATE TABLE {s}.contacts (
    id BIGSERIAL PRIMARY KEY,
    number VARCHAR(20) NOT NULL UNIQUE,
    name VARCHAR(100) NOT NULL,
    city VARCHAR(60),
    credit NUMERIC(12, 2) CHECK (credit >= 0),
    active BOOLEAN NOT NULL DEFAULT false,
    group_id VARCHAR(10) NOT NULL,
    modifiedon TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE FUNCTION {s}.contacts_group_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {s}.groups WHERE id = NEW.group_id) THEN
        RAISE EXCEPTION 'group_id does not exist in groups';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER contacts_group BEFORE INSERT OR UPDATE ON {s}.contacts
FOR EACH ROW EXECUTE FUNCTION {s}.contacts_group_exists();
"""


class SqlTarget(ConformanceTarget):
    """The contacts table of one SQL database."""

    entity = "contacts"
    key = ("number",)
    fields = ("number", "name", "city", "credit", "active", "group_id")
    nullable = "city"

    def __init__(self, name: str, url: str, schema: str | None, engine: sa.Engine) -> None:
        self.name = name
        self.url = url
        self.schema = schema
        self.engine = engine
        self.table = sa.Table("contacts", sa.MetaData(), autoload_with=engine, schema=schema)
        self._connectors: list[SqlConnector] = []

    def connector(self, *, page_size: int | None = None) -> Connector:
        options: dict[str, Any] = {"schema": self.schema, "watermarks": {"contacts": "modifiedon"}}
        if page_size is not None:
            options["page_size"] = page_size
        connector = SqlConnector.from_url(self.url, **options)
        self._connectors.append(connector)
        return connector

    def record(self, number: int) -> Record:
        if number % 7 == 0:
            name = AWKWARD_TEXT[(number // 7) % len(AWKWARD_TEXT)]
        else:
            name = f"Name {number:05d}"
        return {
            "number": f"C-{number:06d}",
            "name": name,
            "city": None if number % 5 == 0 else _CITIES[number % len(_CITIES)],
            "credit": float((number * 37) % 1000) + (number % 4) * 0.25,
            "active": number % 3 == 0,
            "group_id": _GROUPS[number % len(_GROUPS)],
        }

    def load(self, records: Sequence[Record]) -> None:
        rows = [
            {**r, "modifiedon": self._stamp(_T0 + timedelta(seconds=i // _TIE_RUN))}
            for i, r in enumerate(records)
        ]
        with self.engine.begin() as connection:
            connection.execute(sa.insert(self.table), rows)

    def bad_records(self) -> list[BadRecord]:
        return [
            BadRecord(
                {**self.record(900_001), "group_id": "99"},
                "group_id",
                "group_id '99' does not exist in groups",
            ),
            BadRecord({**self.record(900_002), "name": None}, "name", "name is required"),
            BadRecord({**self.record(900_003), "credit": -5}, "credit", "credit -5"),
            BadRecord({**self.record(900_004), "credit": "lots"}, "credit", "not a number"),
        ]

    def filters(self) -> list[str]:
        return standard_filters(text="name", number="credit", boolean="active", nullable="city")

    def changed(self, record: Record) -> Record:
        return {**record, "city": f"{record['city'] or ''} (moved)"}

    def make_changes(self, loaded: Sequence[Record]) -> dict[tuple[Any, ...], Record]:
        with self.engine.begin() as connection:
            newest = connection.execute(sa.select(sa.func.max(self.table.c.modifiedon))).scalar()
        newest_time = newest if isinstance(newest, datetime) else datetime.fromisoformat(newest)
        later = newest_time + timedelta(seconds=1)
        expected: dict[tuple[Any, ...], Record] = {}
        # new rows carrying exactly the newest watermark already read: must not be lost
        ties = [self.record(800_000 + i) for i in range(5)]
        fresh = [self.record(810_000 + i) for i in range(3)]
        updated = [self.changed(r) for r in loaded[1 : len(loaded) : max(1, len(loaded) // 7)]]
        with self.engine.begin() as connection:
            connection.execute(
                sa.insert(self.table),
                [{**r, "modifiedon": newest} for r in ties]
                + [{**r, "modifiedon": self._stamp(later)} for r in fresh],
            )
            statement = (
                sa.update(self.table)
                .where(self.table.c.number == sa.bindparam("key"))
                .values(city=sa.bindparam("new_city"), modifiedon=self._stamp(later))
            )
            connection.execute(
                statement, [{"key": r["number"], "new_city": r["city"]} for r in updated]
            )
        for record in (*ties, *fresh, *updated):
            expected[self.key_of(record)] = record
        return expected

    def close(self) -> None:
        for connector in self._connectors:
            connector.close()
        self.engine.dispose()

    def _stamp(self, moment: datetime) -> Any:
        if self.engine.dialect.name == "sqlite":
            return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return moment


@contextmanager
def sqlite_target(scratch: Path) -> Iterator[ConformanceTarget]:
    """A fresh SQLite file in ``scratch``."""
    path = scratch / "conformance.db"
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.connection.driver_connection.executescript(_SQLITE_DDL)  # type: ignore[union-attr]
    target = SqlTarget("sqlite", url, None, engine)
    try:
        yield target
    finally:
        target.close()


@contextmanager
def postgres_target(scratch: Path) -> Iterator[ConformanceTarget]:
    """A schema of its own in the local PostgreSQL, dropped afterwards."""
    engine = postgres_engine()
    schema = f"conformance_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        connection.exec_driver_sql(_POSTGRES_DDL.format(s=schema))
    target = SqlTarget("postgres", POSTGRES_URL, schema, engine)
    try:
        yield target
    finally:
        target.close()
        cleanup = sa.create_engine(POSTGRES_URL)
        with cleanup.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        cleanup.dispose()
