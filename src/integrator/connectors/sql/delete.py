"""Delete rows by key in bulk: ``DELETE .. WHERE key IN (..) RETURNING key`` per chunk, inside
the batch's transaction. A refused delete (a foreign key that restricts it, a trigger) is isolated
as upserts are (:mod:`integrator.connectors.sql.isolate`); the rest are still deleted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from integrator.connectors.base import Outcome, RecordResult
from integrator.connectors.sql.errors import explain
from integrator.connectors.sql.existing import folded_key
from integrator.connectors.sql.isolate import write_isolating_refusals
from integrator.connectors.sql.schema import TableModel
from integrator.connectors.sql.values import ValueProblem, to_db
from integrator.errors import RequestRejected

__all__ = ["delete_batch"]

_CHUNK = 500

_Item = tuple[int, tuple[Any, ...]]


def delete_batch(
    connection: Connection, model: TableModel, keys: Sequence[Mapping[str, Any]]
) -> list[RecordResult]:
    """Delete the rows with ``keys`` in the caller's open transaction; one result per key."""
    table = model.table
    results: list[RecordResult | None] = [None] * len(keys)
    groups: dict[tuple[str, ...], list[_Item]] = {}
    for index, key in enumerate(keys):
        unknown = [name for name in key if name not in table.c]
        if unknown:
            raise RequestRejected(
                f"{model.info.name} has no key field {unknown[0]!r}", code="unknown-field"
            )
        try:
            values = tuple(
                to_db(name, value, model.kinds[name], table.c[name].type)
                for name, value in key.items()
            )
        except ValueProblem as problem:
            results[index] = RecordResult(dict(key), Outcome.ERROR, str(problem), problem.field)
            continue
        groups.setdefault(tuple(key), []).append((index, values))
    for names, items in groups.items():
        _delete_isolating_refusals(connection, model, names, items, keys, results)
    return [r for r in results if r is not None]


def _delete_isolating_refusals(
    connection: Connection,
    model: TableModel,
    names: tuple[str, ...],
    items: list[_Item],
    keys: Sequence[Mapping[str, Any]],
    results: list[RecordResult | None],
) -> None:
    gone: set[tuple[Any, ...]] = set()

    def attempt(group: list[_Item]) -> None:
        gone.update(_delete(connection, model, names, [values for _, values in group]))

    def written(group: list[_Item]) -> None:
        for index, values in group:
            deleted = values in gone or folded_key(values) in gone
            outcome = Outcome.DELETED if deleted else Outcome.UNCHANGED
            results[index] = RecordResult(dict(keys[index]), outcome)

    def refused(item: _Item, error: Exception) -> None:
        index = item[0]
        if isinstance(error, sa.exc.StatementError):
            problem = explain(error, dict(keys[index]), model, deleting=True)
            message, field = problem.message, problem.field
        else:
            message, field = "the database kept the record without an error", None
        results[index] = RecordResult(dict(keys[index]), Outcome.ERROR, message, field)

    write_isolating_refusals(
        connection, model.info.name, items, attempt, written=written, refused=refused
    )


def _delete(
    connection: Connection, model: TableModel, names: tuple[str, ...], values: list[tuple[Any, ...]]
) -> set[tuple[Any, ...]]:
    """Delete the rows with ``values`` of ``names``; the keys of the rows that were there."""
    table = model.table
    columns = [table.c[n] for n in names]
    returning = connection.dialect.delete_returning
    gone: set[tuple[Any, ...]] = set()
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        if len(columns) == 1:
            condition = columns[0].in_([v[0] for v in chunk])
        else:
            condition = sa.tuple_(*columns).in_(chunk)
        if returning:
            rows = connection.execute(table.delete().where(condition).returning(*columns)).all()
        else:
            rows = connection.execute(sa.select(*columns).where(condition)).all()
            connection.execute(table.delete().where(condition))
        for row in rows:
            gone.add(tuple(row))
            gone.add(folded_key(tuple(row)))
    return gone
