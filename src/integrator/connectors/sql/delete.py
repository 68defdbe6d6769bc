"""Delete rows by key: one statement per key inside the batch's transaction, each under a
savepoint so a refused delete fails alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from integrator.connectors.base import Outcome, RecordResult
from integrator.connectors.sql.errors import explain, is_row_error
from integrator.connectors.sql.schema import TableModel
from integrator.connectors.sql.values import ValueProblem, to_db
from integrator.errors import RequestRejected

__all__ = ["delete_batch"]


def delete_batch(
    connection: Connection, model: TableModel, keys: Sequence[Mapping[str, Any]]
) -> list[RecordResult]:
    """Delete the rows with ``keys`` in the caller's open transaction; one result per key."""
    table = model.table
    results: list[RecordResult] = []
    for key in keys:
        unknown = [name for name in key if name not in table.c]
        if unknown:
            raise RequestRejected(
                f"{model.info.name} has no key field {unknown[0]!r}", code="unknown-field"
            )
        try:
            values = {
                name: to_db(name, value, model.kinds[name], table.c[name].type)
                for name, value in key.items()
            }
        except ValueProblem as problem:
            results.append(RecordResult(dict(key), Outcome.ERROR, str(problem), problem.field))
            continue
        condition = sa.and_(*(table.c[name] == value for name, value in values.items()))
        savepoint = connection.begin_nested()
        try:
            deleted = connection.execute(table.delete().where(condition)).rowcount
            savepoint.commit()
        except sa.exc.StatementError as error:
            savepoint.rollback()
            if not is_row_error(error):
                raise
            refused = explain(error, dict(key), model)
            results.append(RecordResult(dict(key), Outcome.ERROR, refused.message, refused.field))
            continue
        outcome = Outcome.DELETED if deleted else Outcome.UNCHANGED
        results.append(RecordResult(dict(key), outcome))
    return results
