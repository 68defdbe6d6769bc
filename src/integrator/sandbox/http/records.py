"""Turning SQLite rows into OData JSON records, with the annotations a client asked for.

Dataverse (Web API "Select columns", powerapps-docs/developer/data-platform/webapi/query/
select-columns.md) always returns the primary key and ``@odata.etag`` (``W/"<versionnumber>"``)
whatever ``$select`` names; :func:`output_properties` adds the key, :class:`RowReader` reads
``versionnumber`` for the etag without returning it unless it was selected. Lookup annotations
(``lookuplogicalname``, ``associatednavigationproperty``) and formatted values are added only
when asked for, each on its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from integrator.sandbox.http.formatted import formatter, primary_name_column
from integrator.sandbox.http.messages import Prefer
from integrator.sandbox.http.model import Property, ServedSet
from integrator.sandbox.http.query import compile_sql

__all__ = ["Annotations", "RowReader", "add_lookup_names", "output_properties"]

_FORMATTED = "@OData.Community.Display.V1.FormattedValue"
_LOGICAL = "@Microsoft.Dynamics.CRM.lookuplogicalname"
_NAVIGATION = "@Microsoft.Dynamics.CRM.associatednavigationproperty"
_IN_CHUNK = 500


@dataclass(frozen=True)
class Annotations:
    """Which record annotations a request asked for."""

    lookup_logical_name: bool = False
    navigation: bool = False
    formatted: bool = False

    @classmethod
    def of(cls, prefer: Prefer) -> Annotations:
        """The annotations ``prefer``'s ``odata.include-annotations`` asks for."""
        return cls(
            lookup_logical_name=prefer.lookup_annotations,
            navigation=prefer.navigation_annotations,
            formatted=prefer.formatted_values,
        )

    @property
    def any_lookup(self) -> bool:
        """Whether a lookup's target type must be read (for either lookup annotation)."""
        return self.lookup_logical_name or self.navigation


def output_properties(served: ServedSet, select: Sequence[Property]) -> list[Property]:
    """``select`` plus, on Dataverse, the primary key properties it lacks (appended last, where
    Dataverse puts them)."""
    props = list(select)
    if served.service.flavor != "dataverse":
        return props
    for key_name in served.key:
        key_prop = served.properties[key_name]
        if key_prop not in props:
            props.append(key_prop)
    return props


class RowReader:
    """Turns rows (the properties' columns, then :meth:`extra_columns`) into OData records.

    Built once per query: the per-row work is one ``zip`` plus the few conversions the types
    need (booleans, lower-case company ids, annotations, ``@odata.etag``).
    """

    def __init__(
        self,
        served: ServedSet,
        props: Sequence[Property],
        *,
        annotations: Annotations,
        etag: bool,
    ) -> None:
        self.served = served
        self.props = list(props)
        self.names = [p.name for p in props]
        if served.service.flavor != "dataverse":
            annotations = Annotations()  # F&O adds none of Dataverse's record annotations
        self.annotations = annotations
        self._fixes: list[Callable[[dict[str, Any]], None]] = []
        for prop in props:
            if prop.type == "boolean":
                self._fixes.append(_bool_fix(prop.name))
            if prop.name == served.company_field:
                self._fixes.append(_lower_fix(prop.name))
        self._lookups = [p for p in props if p.lookup is not None] if annotations.any_lookup else []
        self._fixed_logical: dict[str, str] = {}
        for prop in self._lookups:
            assert prop.lookup is not None
            if prop.lookup.type_column is None and len(prop.lookup.targets) == 1:
                self._fixed_logical[prop.name] = prop.lookup.targets[0]
        self._formats: list[tuple[str, Callable[[Any], str | None]]] = []
        if annotations.formatted:
            for prop in props:
                fmt = formatter(served, prop)
                if fmt is not None:
                    self._formats.append((prop.name, fmt))
        version = served.version_column()
        self._etag_column = version if etag and version is not None else None
        self._hidden_version = self._etag_column is not None and version not in self.names

    def extra_columns(self) -> list[str]:
        """SQL columns the reader needs beyond the properties: lookups' type columns, and
        ``versionnumber`` for the etag when it is not a selected property."""
        extra = [
            p.lookup.type_column
            for p in self._lookups
            if p.lookup is not None and p.lookup.type_column is not None
        ]
        if self._hidden_version and self._etag_column is not None:
            extra.append(self._etag_column)
        return extra

    def records(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """Records for ``rows`` whose first columns are the properties, then extra columns."""
        names = self.names
        width = len(names)
        extra = {c: width + i for i, c in enumerate(self.extra_columns())}
        if self._etag_column is not None:
            at = extra[self._etag_column] if self._hidden_version else names.index("versionnumber")
            out = [
                {"@odata.etag": f'W/"{row[at]}"', **dict(zip(names, row, strict=False))}
                for row in rows
            ]
        else:
            out = [dict(zip(names, row, strict=False)) for row in rows]
        for fix in self._fixes:
            for record in out:
                fix(record)
        for name, fmt in self._formats:
            for record in out:
                value = record[name]
                if value is not None:
                    text = fmt(value)
                    if text is not None:
                        record[name + _FORMATTED] = text
        if self._lookups:
            self._annotate_lookups(rows, out, extra)
        return out

    def _annotate_lookups(
        self, rows: Sequence[Sequence[Any]], out: list[dict[str, Any]], extra: dict[str, int]
    ) -> None:
        for row, record in zip(rows, out, strict=True):
            for prop in self._lookups:
                if record.get(prop.name) is None:
                    continue
                assert prop.lookup is not None
                if prop.lookup.type_column is not None:
                    logical = row[extra[prop.lookup.type_column]]
                else:
                    logical = self._fixed_logical.get(prop.name)
                if self.annotations.lookup_logical_name:
                    record[prop.name + _LOGICAL] = logical
                nav = prop.lookup.navigation.get(logical) if logical else None
                if nav and self.annotations.navigation:
                    record[prop.name + _NAVIGATION] = nav


def add_lookup_names(
    conn: sqlite3.Connection,
    served: ServedSet,
    records: list[dict[str, Any]],
    props: Sequence[Property],
) -> None:
    """Add each lookup's formatted value (its target's primary name) to ``records``, reading the
    names of a whole page with a few ``IN`` queries per target table."""
    if served.service.flavor != "dataverse":
        return
    for prop in props:
        if prop.lookup is None:
            continue
        ids = list(dict.fromkeys(r[prop.name] for r in records if r.get(prop.name) is not None))
        if not ids:
            continue
        names: dict[str, str] = {}
        for target_name in prop.lookup.targets:
            nav_name = prop.lookup.navigation.get(target_name)
            nav = served.navigations.get(nav_name) if nav_name else None
            if nav is None:
                continue
            target = nav.target
            name_column = primary_name_column(target)
            if name_column is None:
                continue
            key_column = target.table.c[target.properties[target.key[0]].column]
            for start in range(0, len(ids), _IN_CHUNK):
                stmt = sa.select(key_column, target.table.c[name_column]).where(
                    key_column.in_(ids[start : start + _IN_CHUNK])
                )
                sql, params = compile_sql(stmt)
                for ident, name in conn.execute(sql, params).fetchall():
                    if name is not None:
                        names[str(ident).lower()] = name
        for record in records:
            value = record.get(prop.name)
            if value is not None and str(value).lower() in names:
                record[prop.name + _FORMATTED] = names[str(value).lower()]


def _bool_fix(name: str) -> Callable[[dict[str, Any]], None]:
    def fix(record: dict[str, Any]) -> None:
        value = record[name]
        if value is not None:
            record[name] = bool(value)

    return fix


def _lower_fix(name: str) -> Callable[[dict[str, Any]], None]:
    def fix(record: dict[str, Any]) -> None:
        value = record[name]
        if isinstance(value, str):
            record[name] = value.lower()

    return fix
