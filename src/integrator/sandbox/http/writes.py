"""Writing entity sets: create, update, upsert by key or alternate key, delete.

Payloads are checked property by property (unknown field, wrong type, too long, required)
before any SQL runs; the store's triggers then enforce the business rules, and a trigger's
refusal becomes a 400 whose message names the field and value. The caller owns the transaction.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from integrator.sandbox.http.errors import (
    BAD_REQUEST,
    DUPLICATE_RECORD,
    INVALID_PROPERTY,
    INVALID_VALUE,
    NOT_FOUND,
    PRECONDITION_FAILED,
    RULE_VIOLATION,
    ODataError,
)
from integrator.sandbox.http.keys import resolve_key, split_resource
from integrator.sandbox.http.model import ServedService, ServedSet
from integrator.sandbox.http.query import compile_sql
from integrator.sandbox.http.reads import key_condition
from integrator.sandbox.http.values import to_column_value

__all__ = ["Explain", "WriteContext", "not_found"]

#: turns the store's refusal of a record into (status, message), or ``None`` when it cannot:
#: (service name, entity set name, record as it was to be stored, SQLite error text)
Explain = Callable[[str, str, dict[str, Any], str], "tuple[int, str] | None"]

_BIND = "@odata.bind"


def not_found(served: ServedSet, key: dict[str, Any]) -> ODataError:
    """The 404 for a record that does not exist."""
    shown = ", ".join(f"{k} = {v}" for k, v in key.items())
    return ODataError(
        404, NOT_FOUND, f"{served.entity_set.entity_type} With {shown} Does Not Exist"
    )


@dataclass
class WriteContext:
    """Writes on one connection of one service, within a transaction the caller holds."""

    conn: sqlite3.Connection
    service: ServedService
    service_root: str
    explain: Explain
    content_ids: dict[str, str] = field(default_factory=dict)
    #: compiled statements by shape; pass one dict shared across requests of a service
    _sql: dict[tuple[Any, ...], str] = field(default_factory=dict)

    # ---- payloads -------------------------------------------------------------------------

    def _bind_target(self, served: ServedSet, nav_name: str, value: Any) -> tuple[str, str] | None:
        nav = served.navigations.get(nav_name)
        if nav is None:
            raise ODataError(
                400,
                INVALID_PROPERTY,
                f"Could not find a navigation property named '{nav_name}' on {served.name}",
            )
        if value is None:
            return None
        if not isinstance(value, str):
            raise ODataError(
                400, INVALID_VALUE, f"{nav_name}{_BIND} must be a URL such as /accounts(<id>)"
            )
        url = value
        if url.startswith("$") and url[1:].split("/")[0] in self.content_ids:
            url = self.content_ids[url[1:].split("/")[0]]
        if "://" in url:
            url = url.split("://", 1)[1].partition("/")[2]
            url = "/" + url
        base = self.service.service.base_path
        if url.startswith(base):
            url = url[len(base) :]
        url = url.lstrip("/")
        set_name, key_text, rest = split_resource(url)
        if set_name != nav.target.name or key_text is None or rest:
            raise ODataError(
                400,
                INVALID_VALUE,
                f"{nav_name}{_BIND} must point at {nav.target.name}(<id>), not '{value}'",
            )
        key = resolve_key(nav.target, key_text)
        target_key = nav.target.key[0]
        row = self._select_key(nav.target, key)
        if row is None:
            shown = ", ".join(f"{k} = {v}" for k, v in key.items())
            raise ODataError(
                400,
                NOT_FOUND,
                f"{nav_name}: {nav.target_logical_name} With {shown} Does Not Exist",
            )
        return str(row[target_key]), nav.target_logical_name

    def values_from_payload(
        self, served: ServedSet, body: Any, *, creating: bool
    ) -> dict[str, Any]:
        """SQL column values for a JSON payload; 400 naming the field for anything wrong."""
        if not isinstance(body, dict):
            raise ODataError(400, BAD_REQUEST, "The request body must be a JSON object")
        values: dict[str, Any] = {}
        for name, value in body.items():
            if name.endswith(_BIND):
                nav_name = name[: -len(_BIND)]
                target = self._bind_target(served, nav_name, value)
                lookup = served.navigations[nav_name].lookup
                values[lookup.column] = target[0] if target else None
                if lookup.type_column:
                    values[lookup.type_column] = target[1] if target else None
                continue
            if "@" in name:
                continue
            prop = served.properties.get(name)
            if prop is None:
                if name in served.navigations:
                    raise ODataError(
                        400,
                        INVALID_PROPERTY,
                        f"Deep insert through '{name}' is not supported: use {name}{_BIND}",
                    )
                raise ODataError(
                    400,
                    INVALID_PROPERTY,
                    f"Invalid property '{name}' was found in entity "
                    f"'{served.service.namespace}.{served.entity_set.entity_type}'",
                )
            if prop.lookup is not None:
                navs = ", ".join(f"{n}{_BIND}" for n in prop.lookup.navigation.values())
                raise ODataError(
                    400, INVALID_PROPERTY, f"'{name}' is read-only: set the lookup with {navs}"
                )
            if prop.read_only:
                continue
            column_value = to_column_value(prop, value)
            options = prop.definition.options if prop.definition else None
            if options and column_value is not None and column_value not in options:
                raise ODataError(
                    400,
                    INVALID_VALUE,
                    f"Invalid value {column_value} for field '{name}': expected one of "
                    + ", ".join(str(o) for o in options),
                )
            if creating is False and value is None and prop.definition and prop.definition.required:
                raise ODataError(
                    400, INVALID_VALUE, f"Field '{name}' is required: it cannot be null"
                )
            values[prop.column] = column_value
        if served.company_field and isinstance(values.get(served.company_field), str):
            values[served.company_field] = values[served.company_field].lower()
        return values

    def _check_required(self, served: ServedSet, values: dict[str, Any]) -> None:
        generated = (
            served.key[0]
            if len(served.key) == 1 and served.properties[served.key[0]].type == "guid"
            else None
        )
        for col in served.entity_set.columns:
            if not col.required or col.read_only or col.name == generated:
                continue
            if values.get(col.name) is None and col.default is None:
                raise ODataError(
                    400, INVALID_VALUE, f"Field '{col.name}' is required on {served.name}"
                )

    # ---- statements -----------------------------------------------------------------------

    def _select_key(self, served: ServedSet, key: dict[str, Any]) -> dict[str, Any] | None:
        cache_key = ("select", served.name, tuple(key))
        sql = self._sql.get(cache_key)
        if sql is None:
            stmt = sa.select(*(served.column(k) for k in served.key)).where(
                sa.and_(*(served.column(k) == sa.bindparam(f"k_{k}") for k in key))
            )
            sql = self._sql[cache_key] = compile_sql(stmt)[0]
        row = self.conn.execute(sql, {f"k_{k}": v for k, v in key.items()}).fetchone()
        return dict(zip(served.key, row, strict=True)) if row is not None else None

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
