"""Reading entity sets: collection pages (keyset paging), single records, ``$expand``, ``$count``.

Every function takes an open ``sqlite3`` connection and runs a few set-based statements; the
caller runs it on a reader thread inside one read transaction. Records carry what Dataverse
always returns (the primary key, ``@odata.etag``) and the annotations asked for
(:class:`~integrator.sandbox.http.records.Annotations`).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from integrator.sandbox.http.errors import BAD_REQUEST, ODataError
from integrator.sandbox.http.filtering import where_clause
from integrator.sandbox.http.model import Property, ServedSet
from integrator.sandbox.http.paging import decode_token, keyset_after
from integrator.sandbox.http.query import Expand, QueryOptions, compile_sql
from integrator.sandbox.http.records import (
    Annotations,
    RowReader,
    add_lookup_names,
    output_properties,
)

__all__ = [
    "Page",
    "count_rows",
    "expand_records",
    "key_condition",
    "read_one",
    "read_page",
    "sort_order",
]

_IN_CHUNK = 500


@dataclass
class Page:
    """One page of a collection: its records, the total when asked, and where to continue."""

    records: list[dict[str, Any]]
    count: int | None
    next_token: dict[str, Any] | None
    #: the first returned row's sort values (``$orderby`` plus the key), ``None`` when empty
    first_sort: list[Any] | None = None


def key_condition(served: ServedSet, key: dict[str, Any]) -> ColumnElement[bool]:
    """The condition selecting the row whose (primary or alternate) key is ``key``."""
    return sa.and_(*(served.column(name) == value for name, value in key.items()))


def sort_order(served: ServedSet, options: QueryOptions) -> list[tuple[Property, bool]]:
    """The order a page is read in: ``options``' ``$orderby``, then the key properties."""
    order = list(options.orderby)
    named = {p.name for p, _ in order}
    for key_name in served.key:
        if key_name not in named:
            order.append((served.properties[key_name], False))
    return order


def _row_reader(
    served: ServedSet, props: Sequence[Property], annotations: Annotations
) -> RowReader:
    return RowReader(served, props, annotations=annotations, etag=True)


def count_rows(
    conn: sqlite3.Connection, served: ServedSet, options: QueryOptions, *, case_insensitive: bool
) -> int:
    """How many rows ``options``' filter (and company restriction) selects."""
    stmt = sa.select(sa.func.count()).select_from(served.table)
    where = where_clause(served, options, case_insensitive=case_insensitive)
    if where is not None:
        stmt = stmt.where(where)
    sql, params = compile_sql(stmt)
    return int(conn.execute(sql, params).fetchone()[0])


def read_page(
    conn: sqlite3.Connection,
    served: ServedSet,
    options: QueryOptions,
    *,
    page_size: int,
    annotations: Annotations,
    case_insensitive: bool,
) -> Page:
    """One page of the collection ``options`` selects, continuing after ``options.skiptoken``.

    Paging is keyset-based over ``$orderby`` plus the key, so a deep page costs what the first
    does. The returned ``next_token`` (``{"k": last sort values, "n": rows returned so far}``)
    is ``None`` on the last page.
    """
    order = sort_order(served, options)
    state: dict[str, Any] = {"n": 0}
    if options.skiptoken is not None:
        state = decode_token(options.skiptoken, "$skiptoken")
        if not isinstance(state.get("k"), list) or len(state["k"]) != len(order):
            raise ODataError(400, BAD_REQUEST, f"The $skiptoken '{options.skiptoken}' is not valid")
    returned = int(state.get("n", 0))
    limit = page_size
    if options.top is not None:
        limit = min(limit, options.top - returned)
    props = output_properties(served, options.select)
    reader = _row_reader(served, props, annotations)
    out_columns = [p.column for p in props] + reader.extra_columns()
    order_columns = [p.column for p, _ in order]
    expand_columns: list[str] = []
    for item in options.expand:
        lookup = served.navigations[item.navigation].lookup
        expand_columns += [lookup.column, *([lookup.type_column] if lookup.type_column else [])]
    columns = list(dict.fromkeys(out_columns + order_columns + expand_columns))
    position = {c: i for i, c in enumerate(columns)}
    stmt = sa.select(*(served.table.c[c] for c in columns)).select_from(served.table)
    where = where_clause(served, options, case_insensitive=case_insensitive)
    if where is not None:
        stmt = stmt.where(where)
    sort = [(served.table.c[p.column], desc) for p, desc in order]
    if "k" in state:
        stmt = stmt.where(keyset_after(sort, state["k"]))
    stmt = stmt.order_by(*(c.desc() if desc else c.asc() for c, desc in sort))
    count = (
        count_rows(conn, served, options, case_insensitive=case_insensitive)
        if options.count
        else None
    )
    if limit <= 0:
        return Page([], count, None)
    stmt = stmt.limit(limit + 1)
    if options.skip and "k" not in state:
        stmt = stmt.offset(options.skip)
    sql, params = compile_sql(stmt)
    rows = conn.execute(sql, params).fetchall()
    more = len(rows) > limit
    if options.top is not None and returned + min(len(rows), limit) >= options.top:
        more = False
    rows = rows[:limit]
    if columns[: len(out_columns)] == out_columns:
        records = reader.records(rows)
    else:
        picked = [tuple(row[position[c]] for c in out_columns) for row in rows]
        records = reader.records(picked)
    if annotations.formatted:
        add_lookup_names(conn, served, records, props)
    if options.expand:
        expand_records(conn, served, records, rows, position, options.expand, annotations)
    next_token = None
    if more and rows:
        last = rows[-1]
        next_token = {"k": [last[position[c]] for c in order_columns], "n": returned + len(rows)}
    first_sort = [rows[0][position[c]] for c in order_columns] if rows else None
    return Page(records, count, next_token, first_sort)


def expand_records(
    conn: sqlite3.Connection,
    served: ServedSet,
    records: list[dict[str, Any]],
    rows: Sequence[Sequence[Any]],
    position: dict[str, int],
    expands: Sequence[Expand],
    annotations: Annotations,
) -> None:
    """Attach each ``$expand`` navigation's target record (or ``None``) to ``records``, reading
    the targets of a whole page with a few ``IN`` queries."""
    for item in expands:
        nav = served.navigations[item.navigation]
        lookup = nav.lookup
        id_pos = position.get(lookup.column)
        type_pos = position.get(lookup.type_column) if lookup.type_column else None
        ids: list[Any] = []
        if id_pos is None or (lookup.type_column and type_pos is None):
            ids = []
        else:
            for row in rows:
                value = row[id_pos]
                if value is None:
                    continue
                if type_pos is not None and row[type_pos] != nav.target_logical_name:
                    continue
                ids.append(value)
        target = nav.target
        key_prop = target.properties[target.key[0]]
        reader = _row_reader(target, item.select, annotations)
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(ids))
        cols = [p.column for p in item.select] + reader.extra_columns()
        key_index = cols.index(key_prop.column)
        for start in range(0, len(unique), _IN_CHUNK):
            chunk = unique[start : start + _IN_CHUNK]
            stmt = sa.select(*(target.table.c[c] for c in cols)).where(
                target.table.c[key_prop.column].in_(chunk)
            )
            sql, params = compile_sql(stmt)
            rows_t = conn.execute(sql, params).fetchall()
            records_t = reader.records(rows_t)
            if annotations.formatted:
                add_lookup_names(conn, target, records_t, item.select)
            for row_t, record_t in zip(rows_t, records_t, strict=True):
                found[str(row_t[key_index]).lower()] = record_t
        for row, record in zip(rows, records, strict=True):
            value = row[id_pos] if id_pos is not None else None
            match = None
            if value is not None and (type_pos is None or row[type_pos] == nav.target_logical_name):
                match = found.get(str(value).lower())
            record[item.navigation] = match


@functools.lru_cache(maxsize=1024)
def _one_row_sql(served: ServedSet, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    """``SELECT columns`` of the row whose ``key`` properties equal ``:k_<name>``, compiled
    once: a write answered with its representation reads one row per operation."""
    condition = sa.and_(*(served.column(name) == sa.bindparam(f"k_{name}") for name in key))
    stmt = sa.select(*(served.table.c[c] for c in columns)).where(condition)
    return compile_sql(stmt)[0]


def read_one(
    conn: sqlite3.Connection,
    served: ServedSet,
    key: dict[str, Any],
    select: Sequence[Property],
    *,
    annotations: Annotations,
    expands: Sequence[Expand] = (),
) -> dict[str, Any] | None:
    """The record whose key (or alternate key) is ``key``, with ``select``'s properties (and,
    on Dataverse, the primary key)."""
    props = output_properties(served, select)
    reader = _row_reader(served, props, annotations)
    out_columns = [p.column for p in props] + reader.extra_columns()
    extra = [lk.column for lk in served.entity_set.lookups] + [
        lk.type_column for lk in served.entity_set.lookups if lk.type_column
    ]
    columns = tuple(dict.fromkeys(out_columns + extra))
    position = {c: i for i, c in enumerate(columns)}
    if any(value is None for value in key.values()):
        stmt = sa.select(*(served.table.c[c] for c in columns)).where(key_condition(served, key))
        sql, params = compile_sql(stmt)
    else:
        sql = _one_row_sql(served, columns, tuple(key))
        params = {f"k_{name}": value for name, value in key.items()}
    row = conn.execute(sql, params).fetchone()
    if row is None:
        return None
    record = reader.records([row[: len(out_columns)]])[0]
    if annotations.formatted:
        add_lookup_names(conn, served, [record], props)
    if expands:
        expand_records(conn, served, [record], [row], position, expands, annotations)
    return record
