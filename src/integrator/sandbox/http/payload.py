"""Request payloads as column values: each property checked (unknown field, wrong type, too
long, option set, required) and each ``<navigation>@odata.bind`` resolved to the target's id,
before any SQL writes run.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from integrator.sandbox.http.errors import (
    BAD_REQUEST,
    INVALID_PROPERTY,
    INVALID_VALUE,
    NOT_FOUND,
    ODataError,
)
from integrator.sandbox.http.keys import resolve_key, split_resource
from integrator.sandbox.http.model import ServedService, ServedSet
from integrator.sandbox.http.query import compile_sql
from integrator.sandbox.http.values import to_column_value

__all__ = ["PayloadReader"]

_BIND = "@odata.bind"


@dataclass
class PayloadReader:
    """Reads payloads for one service on one connection (bind targets are looked up on it)."""

    conn: sqlite3.Connection
    service: ServedService
    content_ids: dict[str, str] = field(default_factory=dict)
    #: compiled statements by shape; pass one dict shared across requests of a service
    _sql: dict[tuple[Any, ...], str] = field(default_factory=dict)

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
