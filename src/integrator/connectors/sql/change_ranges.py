"""Watermark ranges of a table's changes, for partitioned incremental reads: the bounds that
cut the rows changed since a checkpoint into ranges of about N rows, and keyset-paged reads of
one range.

A range is cut on (watermark, key), not on the watermark alone: a bulk update gives thousands
of rows one ``modifiedon``, and the key splits them. Unlike key ranges of a full read
(:mod:`.ranges`), no record is ever placed in a range by comparing in Python (an incremental
read removes nothing), so any key the table orders by will do: the database compares the
bounds it gave.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.sql import ColumnElement

from integrator.connectors.base import RangePage
from integrator.connectors.sql.changes import incremental_key, load_checkpoint
from integrator.connectors.sql.read import build_query, read_pages
from integrator.connectors.sql.schema import TableModel
from integrator.connectors.sql.values import ValueProblem, from_db, to_db
from integrator.errors import RequestRejected

__all__ = ["change_bounds", "read_change_range"]


def change_bounds(
    engine: Engine, model: TableModel, *, watermark: str, checkpoint: str | None, every: int
) -> list[list[Any]] | None:
    """The (watermark, key…) values that start each range after the first of the rows changed
    since ``checkpoint`` (every ``every``-th in that order, one ``OFFSET`` query per bound,
    ``[]`` when ``every`` or fewer changed); ``None`` when the read from ``checkpoint`` is a
    read of everything (no checkpoint, or one from before any row had a watermark)."""
    state = load_checkpoint(checkpoint, model.info.name, watermark)
    if state is None:
        return None
    columns = _order_columns(model, watermark)
    high = _high(model, watermark, state)
    bounds: list[list[Any]] = []
    last: list[Any] | None = None
    with engine.connect() as connection:
        while True:
            query = sa.select(*columns).where(columns[0] >= high)
            if last is not None:
                query = query.where(_compare(columns, last, ">="))
            row = connection.execute(query.order_by(*columns).offset(every).limit(1)).first()
            if row is None:
                return bounds
            last = list(row)
            bounds.append([from_db(value) for value in row])


def read_change_range(
    engine: Engine,
    model: TableModel,
    fields: Sequence[str],
    *,
    watermark: str,
    since: str,
    lower: Sequence[Any] | None,
    upper: Sequence[Any] | None,
    after: Sequence[Any] | None,
    page_size: int,
) -> Iterator[RangePage]:
    """Pages of the rows changed since ``since`` with ``lower <= (watermark, key…) < upper``
    (``None``: open), after ``after``, in that order; each page's ``last`` is the
    (watermark, key…) of its last row. The rows ``since`` already saw at its watermark are
    left out, as :func:`~integrator.connectors.sql.changes.read_changes` does."""
    state = load_checkpoint(since, model.info.name, watermark)
    if state is None:
        raise ValueError(f"{model.info.name}: a change range needs a checkpoint to read from")
    key = incremental_key(model, watermark)
    columns = _order_columns(model, watermark)
    high = _high(model, watermark, state)
    already_read = {tuple(k) for k in state["keys"]}
    query = build_query(model, fields, filter=None, case_insensitive=False, extra=(watermark,))
    mark_label = f"k{len(key)}"
    query.order = [(columns[0], mark_label), *query.order[: len(key)]]
    query.select = query.select.where(columns[0] >= high)
    if lower is not None:
        query.select = query.select.where(_compare(columns, _typed(model, watermark, lower), ">="))
    if upper is not None:
        query.select = query.select.where(_compare(columns, _typed(model, watermark, upper), "<"))
    start = None if after is None else _typed(model, watermark, after)
    positions = [query.position(label) for _, label in query.order]
    at_mark, at_key = positions[0], positions[1:]
    for records, rows in read_pages(engine, query, page_size, after=start):
        kept = [
            record
            for record, row in zip(records, rows, strict=True)
            if not (row[at_mark] == high and tuple(from_db(row[i]) for i in at_key) in already_read)
        ]
        yield RangePage(kept, [from_db(rows[-1][i]) for i in positions])


def _order_columns(model: TableModel, watermark: str) -> list[ColumnElement[Any]]:
    """The watermark column, then the key's, as a change range orders them."""
    key = incremental_key(model, watermark)
    return [model.table.c[watermark], *(model.table.c[name] for name in key)]


def _high(model: TableModel, watermark: str, state: dict[str, Any]) -> Any:
    """The checkpoint's watermark as the column binds it."""
    column = model.table.c[watermark]
    try:
        return to_db(watermark, state["watermark"], model.kinds[watermark], column.type)
    except ValueProblem:
        raise RequestRejected(
            f"the checkpoint for {model.info.name} was not written by this connection's "
            "watermark read; run with all data to start again",
            code="checkpoint-expired",
        ) from None


def _typed(model: TableModel, watermark: str, values: Sequence[Any]) -> list[Any]:
    """A (watermark, key…) bound from JSON as the columns bind it."""
    names = [watermark, *incremental_key(model, watermark)]
    if len(values) != len(names):
        raise ValueError(f"{model.info.name}: a change range bound has {len(names)} values")
    return [
        to_db(name, value, model.kinds[name], model.table.c[name].type)
        for name, value in zip(names, values, strict=True)
    ]


def _compare(
    columns: Sequence[ColumnElement[Any]], values: Sequence[Any], operator: str
) -> ColumnElement[bool]:
    """``(columns) >= (values)`` or ``(columns) < (values)``, as row values compare."""
    left = sa.tuple_(*columns)
    right = sa.tuple_(
        *(
            sa.literal(value, type_=column.type)
            for column, value in zip(columns, values, strict=True)
        )
    )
    return left >= right if operator == ">=" else left < right
