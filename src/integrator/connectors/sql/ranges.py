"""Key ranges of a table, for partitioned full reads: the bounds that cut it into ranges of
about N rows, and keyset-paged reads of one range.

Only a single-column key Python orders as the database does can be cut: integers anywhere,
text and GUIDs in SQLite, under BINARY (code points, as Python compares) when the connector
compares keys exactly, or under NOCASE when it folds them (the sandbox's stores, whose NOCASE
is a casefold). The engine decides which range a record of its history is in by comparing in
Python, so another order would remove records from the wrong range.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from integrator.connectors.base import RangePage
from integrator.connectors.sql.read import build_query, read_pages
from integrator.connectors.sql.schema import TableModel
from integrator.connectors.sql.values import from_db, to_db

__all__ = ["key_bounds", "read_range"]


def range_key(engine: Engine, model: TableModel, *, folded: bool) -> str | None:
    """The key column a range read of ``model`` cuts on, or ``None`` when it cannot be cut
    (``folded``: the connector compares keys ignoring case)."""
    key = model.paging_key
    if len(key) != 1:
        return None
    kind = model.kinds.get(key[0])
    if kind == "integer":
        return key[0]
    if kind in ("string", "guid") and model.dialect == "sqlite":
        collation = _sqlite_collation(engine, model, key[0])
        return key[0] if collation == ("NOCASE" if folded else "BINARY") else None
    return None


def _sqlite_collation(engine: Engine, model: TableModel, column: str) -> str:
    """The collation SQLite compares ``column`` under, from the table's ``CREATE TABLE``."""
    with engine.connect() as connection:
        sql = connection.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": model.table.name},
        ).scalar()
    for definition in _definitions(str(sql or "").partition("(")[2]):
        words = definition.split()
        if words and words[0].strip("\"'`[]").casefold() == column.casefold():
            found = re.search(r"\bCOLLATE\s+[\"'`\[]?(\w+)", definition, re.IGNORECASE)
            return found.group(1).upper() if found else "BINARY"
    return "BINARY"


def _definitions(body: str) -> list[str]:
    """The comma-separated parts of a ``CREATE TABLE`` body, commas in parentheses kept."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(body):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(body[start:index].strip())
            start = index + 1
    parts.append(body[start:].strip())
    return parts


def key_bounds(
    engine: Engine, model: TableModel, every: int, *, folded: bool
) -> tuple[str, list[Any]] | None:
    """The range key and the values that start each range after the first (every
    ``every``-th key in key order, one indexed ``OFFSET`` query per bound), or ``None``."""
    name = range_key(engine, model, folded=folded)
    if name is None:
        return None
    column = model.table.c[name]
    bounds: list[Any] = []
    last: Any = None
    with engine.connect() as connection:
        while True:
            query = sa.select(column).order_by(column).offset(every).limit(1)
            if last is not None:
                query = query.where(column >= last)
            row = connection.execute(query).first()
            if row is None:
                return name, bounds
            last = row[0]
            bounds.append(from_db(last))


def read_range(
    engine: Engine,
    model: TableModel,
    fields: Sequence[str],
    *,
    lower: Any,
    upper: Any,
    after: Any,
    page_size: int,
    folded: bool,
) -> Iterator[RangePage]:
    """Pages of the rows with ``lower <= key < upper`` (``None``: open), after ``after``."""
    name = range_key(engine, model, folded=folded)
    if name is None:
        raise ValueError(f"{model.info.name} cannot be read by key range")
    column = model.table.c[name]
    kind, column_type = model.kinds[name], column.type
    query = build_query(model, fields, filter=None, case_insensitive=False)
    if lower is not None:
        query.select = query.select.where(column >= to_db(name, lower, kind, column_type))
    if upper is not None:
        query.select = query.select.where(column < to_db(name, upper, kind, column_type))
    start = None if after is None else [to_db(name, after, kind, column_type)]
    at_key = query.position("k0")
    for records, rows in read_pages(engine, query, page_size, after=start):
        yield RangePage(records, from_db(rows[-1][at_key]))
