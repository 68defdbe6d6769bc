"""Key ranges of a table, for partitioned full reads: the bounds that cut it into ranges of
about N rows, and keyset-paged reads of one range.

Only a single-column key Python orders as the database does can be cut: integers anywhere,
text and GUIDs in SQLite (its BINARY collation compares code points as Python does). The
engine decides which range a record of its history is in by comparing in Python, so another
order would remove records from the wrong range.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from integrator.connectors.base import RangePage
from integrator.connectors.sql.read import build_query, read_pages
from integrator.connectors.sql.schema import TableModel
from integrator.connectors.sql.values import from_db, to_db

__all__ = ["key_bounds", "read_range"]


def range_key(model: TableModel) -> str | None:
    """The key column a range read of ``model`` cuts on, or ``None`` when it cannot be cut."""
    key = model.paging_key
    if len(key) != 1:
        return None
    kind = model.kinds.get(key[0])
    if kind == "integer" or (kind in ("string", "guid") and model.dialect == "sqlite"):
        return key[0]
    return None


def key_bounds(engine: Engine, model: TableModel, every: int) -> tuple[str, list[Any]] | None:
    """The range key and the values that start each range after the first (every
    ``every``-th key in key order, one indexed ``OFFSET`` query per bound), or ``None``."""
    name = range_key(model)
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
) -> Iterator[RangePage]:
    """Pages of the rows with ``lower <= key < upper`` (``None``: open), after ``after``."""
    name = range_key(model)
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
