"""Writing entity sets: create, update, upsert by key or alternate key, delete.

Payloads are checked property by property (unknown field, wrong type, too long, required)
before any SQL runs; the store's triggers then enforce the business rules, and a trigger's
refusal becomes a 400 whose message names the field and value. The caller owns the transaction.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from integrator.sandbox.http.errors import (
    BAD_REQUEST,
    DUPLICATE_RECORD,
    INVALID_VALUE,
    NOT_FOUND,
    PRECONDITION_FAILED,
    RULE_VIOLATION,
    ODataError,
)
from integrator.sandbox.http.model import ServedSet
from integrator.sandbox.http.payload import PayloadReader
from integrator.sandbox.http.query import compile_sql
from integrator.sandbox.http.reads import key_condition

__all__ = ["Explain", "WriteContext", "not_found"]

#: turns the store's refusal of a record into (status, message), or ``None`` when it cannot:
#: (service name, entity set name, record as it was to be stored, SQLite error text)
Explain = Callable[[str, str, dict[str, Any], str], "tuple[int, str] | None"]


def not_found(served: ServedSet, key: dict[str, Any]) -> ODataError:
    """The 404 for a record that does not exist."""
    shown = ", ".join(f"{k} = {v}" for k, v in key.items())
    return ODataError(
        404, NOT_FOUND, f"{served.entity_set.entity_type} With {shown} Does Not Exist"
    )


@dataclass
class WriteContext(PayloadReader):
    """Writes on one connection of one service, within a transaction the caller holds."""

    #: the store's explanation of a refused record (see :data:`Explain`)
    explain: Explain | None = None

    # ---- statements -----------------------------------------------------------------------

    def _run(
        self,
        served: ServedSet,
        sql: str,
        params: dict[str, Any],
        record: Callable[[], dict[str, Any]],
    ) -> Any:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise self._violation(served, record(), str(exc)) from None

    def _row(self, served: ServedSet, primary: dict[str, Any]) -> dict[str, Any]:
        stmt = (
            sa.select(sa.text("*")).select_from(served.table).where(key_condition(served, primary))
        )
        sql, params = compile_sql(stmt)
        cur = self.conn.execute(sql, params)
        row = cur.fetchone()
        if row is None:
            return {}
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    def _violation(self, served: ServedSet, record: dict[str, Any], text: str) -> ODataError:
        explained = None
        if self.explain is not None:
            explained = self.explain(self.service.service.name, served.name, record, text)
        if explained is not None:
            status, message = explained
            return ODataError(
                status, DUPLICATE_RECORD if status == 412 else RULE_VIOLATION, message
            )
        if text.startswith("UNIQUE constraint failed"):
            cols = [c.split(".")[-1].strip() for c in text.split(":", 1)[1].split(",")]
            shown = ", ".join(f"{c} = {record.get(c)!r}" for c in cols)
            return ODataError(
                412, DUPLICATE_RECORD, f"A record of {served.name} with {shown} already exists"
            )
        if text.startswith("NOT NULL constraint failed"):
            col = text.rsplit(".", 1)[-1].strip()
            return ODataError(400, INVALID_VALUE, f"Field '{col}' is required on {served.name}")
        return ODataError(400, RULE_VIOLATION, f"{served.name}: {text}")

    def _insert_sql(self, served: ServedSet, columns: tuple[str, ...]) -> str:
        cache_key = ("insert", served.name, columns)
        sql = self._sql.get(cache_key)
        if sql is None:
            table = sa.table(served.entity_set.table, *(sa.column(c) for c in columns))
            stmt = sa.insert(table).values({c: sa.bindparam(f"v_{c}") for c in columns})
            sql = self._sql[cache_key] = compile_sql(stmt)[0]
        return sql

    def _update_sql(self, served: ServedSet, columns: tuple[str, ...]) -> str:
        cache_key = ("update", served.name, columns)
        sql = self._sql.get(cache_key)
        if sql is None:
            names = tuple(dict.fromkeys((*columns, *served.key)))
            table = sa.table(served.entity_set.table, *(sa.column(c) for c in names))
            stmt = (
                sa.update(table)
                .where(sa.and_(*(table.c[k] == sa.bindparam(f"k_{k}") for k in served.key)))
                .values({c: sa.bindparam(f"v_{c}") for c in columns})
            )
            sql = self._sql[cache_key] = compile_sql(stmt)[0]
        return sql

    # ---- operations -----------------------------------------------------------------------

    def create(
        self, served: ServedSet, body: Any, *, url_key: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Insert a record; returns its primary key. 412 when the key is taken."""
        values = self.values_from_payload(served, body, creating=True)
        for name, value in (url_key or {}).items():
            column = served.properties[name].column
            if values.get(column) is not None and str(values[column]).lower() != str(value).lower():
                raise ODataError(
                    400,
                    BAD_REQUEST,
                    f"Field '{name}' is {values[column]!r} in the body but {value!r} in the URL",
                )
            values[column] = value
        company = served.company_field
        default = served.service.default_company
        if company and default and values.get(company) is None:
            values[company] = default.lower()
        if len(served.key) == 1 and served.properties[served.key[0]].type == "guid":
            values.setdefault(served.key[0], None)
            if values[served.key[0]] is None:
                values[served.key[0]] = str(uuid.uuid4())
        self._check_required(served, values)
        columns = tuple(values)
        sql = self._insert_sql(served, columns)
        self._run(served, sql, {f"v_{c}": v for c, v in values.items()}, lambda: values)
        return {k: values[served.properties[k].column] for k in served.key}

    def update(self, served: ServedSet, primary: dict[str, Any], body: Any) -> None:
        """Update the record with primary key ``primary`` from ``body``."""
        values = self.values_from_payload(served, body, creating=False)
        for name in served.key:
            column = served.properties[name].column
            if column in values and str(values[column]).lower() != str(primary[name]).lower():
                raise ODataError(
                    400, BAD_REQUEST, f"The key field '{name}' cannot be changed by an update"
                )
            values.pop(column, None)
        if not values:
            # touch the row anyway so versionnumber/modifiedon move, as Dataverse does
            values = {served.properties[served.key[0]].column: primary[served.key[0]]}
        columns = tuple(values)
        sql = self._update_sql(served, columns)
        params = {f"v_{c}": v for c, v in values.items()}
        params.update({f"k_{k}": v for k, v in primary.items()})
        self._run(served, sql, params, lambda: {**self._row(served, primary), **values})

    def upsert(
        self,
        served: ServedSet,
        key: dict[str, Any],
        body: Any,
        *,
        if_match: str | None,
        if_none_match: bool,
    ) -> tuple[bool, dict[str, Any]]:
        """Update the record ``key`` names, or create it; returns (created, primary key).

        ``if_match`` (``If-Match``) only updates: 404 when missing; an ETag (``W/"123"``) must
        also equal the row's version, else 412. ``if_none_match`` (``If-None-Match: *``) only
        creates: 412 when it exists.
        """
        existing = self._select_key(served, key)
        if existing is not None:
            if if_none_match:
                raise ODataError(
                    412, DUPLICATE_RECORD, f"A record of {served.name} with that key already exists"
                )
            if if_match and if_match != "*":
                self._check_etag(served, existing, if_match)
            self.update(served, existing, body)
            return False, existing
        if if_match:
            raise not_found(served, key)
        return True, self.create(served, body, url_key=key)

    def _check_etag(self, served: ServedSet, primary: dict[str, Any], etag: str) -> None:
        wanted = etag.strip().removeprefix("W/").strip('"')
        current = self._row(served, primary).get("versionnumber")
        if current is None or str(current) != wanted:
            raise ODataError(
                412,
                PRECONDITION_FAILED,
                f"The version of the {served.entity_set.entity_type} record ({current}) does not"
                f" match If-Match {etag}",
            )

    def delete(self, served: ServedSet, key: dict[str, Any]) -> None:
        """Delete the record ``key`` names; 404 when missing."""
        stmt = sa.delete(served.table).where(key_condition(served, key))
        sql, params = compile_sql(stmt)
        cur = self._run(served, sql, params, lambda: dict(key))
        if cur.rowcount == 0:
            raise not_found(served, key)
