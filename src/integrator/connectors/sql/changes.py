"""Incremental reads by a watermark column (``modifiedon``, a rowversion, a sequence number).

The checkpoint remembers the highest watermark seen and the keys of the rows that carry it.
The next read asks for ``watermark >= last`` (closed, so rows written later with the same
timestamp are not lost) and drops the rows whose key was already seen at exactly ``last`` (so
nothing is repeated). Deleted rows leave no trace in a table and are not reported; rows whose
watermark is NULL are read by the first (full) read only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from integrator.connectors.base import ChangeBatch
from integrator.connectors.sql.read import build_query, read_pages
from integrator.connectors.sql.schema import TableModel
from integrator.connectors.sql.values import ValueProblem, from_db, to_db
from integrator.errors import RequestRejected

__all__ = ["current_checkpoint", "incremental_key", "load_checkpoint", "read_changes"]

_FORMAT = 1


def read_changes(
    engine: Engine,
    model: TableModel,
    fields: Sequence[str],
    *,
    watermark: str,
    checkpoint: str | None,
    page_size: int,
) -> Iterator[ChangeBatch]:
    """Yield batches of rows changed since ``checkpoint``; the last batch carries the new one,
    and when there was a checkpoint (the rows come in watermark order) so does every batch."""
    table = model.table
    key = incremental_key(model, watermark)
    state = load_checkpoint(checkpoint, model.info.name, watermark)
    mark = table.c[watermark]
    mark_label = f"k{len(key)}"
    query = build_query(model, fields, filter=None, case_insensitive=False, extra=(watermark,))
    high: Any = None  # the highest watermark seen, as the database returns it
    seen: set[tuple[Any, ...]] = set()
    if state is None:
        # the first read pages by key alone, so rows with a NULL watermark are included
        query.order = query.order[: len(key)]
    else:
        try:
            high = to_db(watermark, state["watermark"], model.kinds[watermark], mark.type)
        except ValueProblem:
            raise _expired(model.info.name) from None
        seen = {tuple(k) for k in state["keys"]}
        query.select = query.select.where(mark >= high)
        # page in watermark order so that the rows sharing the boundary value are seen together
        query.order = [(mark, mark_label), *query.order[: len(key)]]
    boundary, already_read = high, frozenset(seen)
    pending: ChangeBatch | None = None
    at_mark = query.position(mark_label)
    at_key = [query.position(f"k{i}") for i in range(len(key))]
    for records, rows in read_pages(engine, query, page_size):
        kept = []
        for record, row in zip(records, rows, strict=True):
            value = row[at_mark]
            row_key = tuple(from_db(row[i]) for i in at_key)
            if boundary is not None and value == boundary and row_key in already_read:
                continue
            kept.append(record)
            if value is None:
                continue
            if high is None or _greater(value, high):
                high, seen = value, {row_key}
            elif value == high:
                seen.add(row_key)
        if pending is not None:
            yield pending
        pending = ChangeBatch(records=kept)
        if state is not None:
            # in watermark order every page ends at a resume point: store it with the page, so
            # a run stopped half-way goes on from there, not from the start
            pending.checkpoint = _dump(model.info.name, watermark, from_db(high), seen)
    if pending is None:
        pending = ChangeBatch(records=[])
    pending.checkpoint = _dump(model.info.name, watermark, from_db(high), seen)
    yield pending


def incremental_key(model: TableModel, watermark: str) -> tuple[str, ...]:
    """The paging key of a table read by ``watermark``; raises ``RequestRejected`` when the
    table has no such column or no primary or unique key."""
    if watermark not in model.table.c:
        raise RequestRejected(
            f"{model.info.name} has no watermark column {watermark!r}", code="unknown-field"
        )
    if not model.paging_key:
        raise RequestRejected(
            f"{model.info.name} has no primary or unique key; incremental reads need one",
            code="no-key",
        )
    return model.paging_key


def current_checkpoint(engine: Engine, model: TableModel, *, watermark: str) -> str:
    """The checkpoint a read from now would store: the highest watermark in the table and the
    keys of the rows holding it (a later read brings the rows written from now on, and those
    already at that watermark whose key is not among these)."""
    table = model.table
    key = incremental_key(model, watermark)
    mark = table.c[watermark]
    with engine.connect() as connection:
        high = connection.execute(sa.select(sa.func.max(mark))).scalar()
        seen: set[tuple[Any, ...]] = set()
        if high is not None:
            rows = connection.execute(sa.select(*(table.c[k] for k in key)).where(mark == high))
            seen = {tuple(from_db(v) for v in row) for row in rows}
    return _dump(model.info.name, watermark, from_db(high), seen)


def _greater(left: Any, right: Any) -> bool:
    try:
        return bool(left > right)
    except TypeError:
        return str(left) > str(right)


def _dump(entity: str, watermark: str, high: Any, seen: set[tuple[Any, ...]]) -> str:
    return json.dumps(
        {
            "format": _FORMAT,
            "entity": entity,
            "column": watermark,
            "watermark": high,
            "keys": sorted((list(k) for k in seen), key=str),
        },
        separators=(",", ":"),
    )


def load_checkpoint(checkpoint: str | None, entity: str, watermark: str) -> dict[str, Any] | None:
    """The state a checkpoint of this read holds (``watermark``, ``keys``), ``None`` when it
    says to read everything; raises ``RequestRejected`` (``checkpoint-expired``) for one this
    connection's watermark read did not write."""
    if checkpoint is None:
        return None
    try:
        state = json.loads(checkpoint)
        valid = (
            isinstance(state, dict)
            and state.get("format") == _FORMAT
            and state.get("entity") == entity
            and state.get("column") == watermark
            and isinstance(state.get("keys"), list)
        )
    except ValueError:
        valid = False
    if not valid:
        raise _expired(entity)
    if state["watermark"] is None:  # the table had no watermarked rows yet: read everything
        return None
    return dict(state)


def _expired(entity: str) -> RequestRejected:
    return RequestRejected(
        f"the checkpoint for {entity} was not written by this connection's watermark read; "
        "run with all data to start again",
        code="checkpoint-expired",
    )
