"""SQLite: write a group of rows with one ``executemany`` and carry on after a refused row,
instead of halving the group until the refused rows stand alone.

SQLite runs ``executemany`` row after row. When a row is refused (a constraint, a trigger's
``RAISE(ABORT, ...)``), SQLite undoes that row's statement only (ABORT, the default conflict
handling) and the rows before it stay written; the rows after it were never sent. Counting what
the driver took from the parameters tells which row it was, so the write goes on from the next
row: n + k row executions for k refusals in n rows, no savepoint rolled back, no row sent
twice. The statement text is compiled once per table and set of columns, and the values go to
the driver as tuples, each column through its type's bind conversion only when it has one.

This holds only where no row can vanish or half-happen without an error: a table (not a view)
whose definition and triggers use no ``IGNORE`` or ``FAIL`` conflict handling
(:attr:`TableModel.continues_after_refusal`). Anything this path cannot settle (rows that did
not all count as written, an error about something else than a row) is rolled back to the
group's savepoint and handed back for :mod:`integrator.connectors.sql.isolate`.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from integrator.connectors.sql.errors import is_row_error
from integrator.connectors.sql.isolate import transaction_lost, transaction_lost_error

__all__ = ["Grouped", "write_continuing"]


class Grouped(Protocol):
    """A write as the continuing path needs it: its kind and its values by column."""

    @property
    def kind(self) -> str: ...

    @property
    def values(self) -> dict[str, Any]: ...


W = TypeVar("W", bound=Grouped)


class _Counted(list[tuple[Any, ...]]):
    """Rows that count how many the driver took: the last one taken is the one refused."""

    taken = 0

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for row in list.__iter__(self):
            self.taken += 1
            yield row


class _Unsettled(Exception):
    """The group cannot be settled here; the caller isolates it the slow, sure way."""


@functools.lru_cache(maxsize=1024)
def _statement(
    table: sa.Table, dialect: Dialect, kind: str, key: tuple[str, ...], columns: tuple[str, ...]
) -> tuple[str, tuple[str, ...], tuple[Callable[[Any], Any] | None, ...]]:
    """The SQL text of an insert of ``columns`` (or an update of ``columns`` by ``key``), the
    column each ``?`` takes, and each one's bind conversion (``None``: the value as it is)."""
    if kind == "insert":
        statement: sa.Insert | sa.Update = sa.insert(table).values(
            {table.c[c]: sa.bindparam(c, type_=table.c[c].type) for c in columns}
        )
        bound = {c: c for c in columns}
    else:
        statement = (
            sa.update(table)
            .where(
                *(
                    table.c[k] == sa.bindparam(f"__k{i}", type_=table.c[k].type)
                    for i, k in enumerate(key)
                )
            )
            .values(
                {
                    table.c[c]: sa.bindparam(f"__v{i}", type_=table.c[c].type)
                    for i, c in enumerate(columns)
                }
            )
        )
        bound = {
            **{f"__k{i}": k for i, k in enumerate(key)},
            **{f"__v{i}": c for i, c in enumerate(columns)},
        }
    compiled = statement.compile(dialect=dialect)
    order = tuple(bound[name] for name in compiled.positiontup or ())
    conversions = tuple(
        table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in order
    )
    return compiled.string, order, conversions


def write_continuing(
    connection: Connection,
    table: sa.Table,
    entity: str,
    key: Sequence[str],
    writes: list[W],
    *,
    written: Callable[[list[W]], None],
    refused: Callable[[W, Exception], object],
) -> list[W]:
    """Write ``writes`` (grouped by kind and columns, inserts before updates) in the caller's
    transaction, telling ``written`` of the rows that went through and ``refused`` of each row
    the database refused, with its error. Returns the writes it could not settle, rolled back
    (each group under a savepoint of its own), for the caller to isolate otherwise.

    Raises ``RequestRejected`` when the database ended the whole transaction
    (``RAISE(ROLLBACK)``), and re-raises errors that are not about the rows."""
    groups: dict[tuple[str, frozenset[str]], list[W]] = {}
    for write in writes:
        groups.setdefault((write.kind, frozenset(write.values)), []).append(write)
    counting = connection.execution_options(preserve_rowcount=True)
    left: list[W] = []
    for (kind, columns), group in groups.items():
        given = sorted(columns) if kind == "insert" else sorted(columns - set(key))
        if kind == "update" and not given:
            written(group)  # nothing but the key: the row is already as asked
            continue
        sql, order, conversions = _statement(
            table, connection.dialect, kind, tuple(key), tuple(given)
        )
        rows = _rows(group, order, conversions)
        savepoint = connection.begin_nested()
        try:
            _write_group(counting, entity, sql, rows, group, written, refused)
        except _Unsettled:
            savepoint.rollback()
            left.extend(group)
            continue
        except BaseException:
            if savepoint.is_active and not transaction_lost(connection):
                savepoint.rollback()
            raise
        savepoint.commit()
    return left


def _rows(
    group: Sequence[W],
    order: tuple[str, ...],
    conversions: tuple[Callable[[Any], Any] | None, ...],
) -> list[tuple[Any, ...]]:
    """Each write's values in ``order``, through the conversions of the columns having one."""
    if len(order) == 1:
        rows = [(w.values[order[0]],) for w in group]
    else:
        pick = operator.itemgetter(*order)
        rows = [pick(w.values) for w in group]
    converted = [(i, convert) for i, convert in enumerate(conversions) if convert is not None]
    if not converted:
        return rows
    result = []
    for row in rows:
        values = list(row)
        for i, convert in converted:
            values[i] = convert(values[i])
        result.append(tuple(values))
    return result


def _write_group(
    connection: Connection,
    entity: str,
    sql: str,
    rows: list[tuple[Any, ...]],
    group: list[W],
    written: Callable[[list[W]], None],
    refused: Callable[[W, Exception], object],
) -> None:
    start = 0
    while start < len(rows):
        chunk = _Counted(rows[start:])
        try:
            result = connection.exec_driver_sql(sql, chunk)
        except sa.exc.StatementError as error:
            lost = transaction_lost_error(connection, entity, error)
            if lost is not None:
                raise lost from None
            if not is_row_error(error):
                raise
            # one row goes to the driver's execute(), which takes it without iterating
            taken = 1 if len(chunk) == 1 else chunk.taken
            if not 1 <= taken <= len(chunk):
                raise _Unsettled() from None
            failed = start + taken - 1
            if failed > start:
                written(group[start:failed])
            refused(group[failed], error)
            start = failed + 1
            continue
        if result.rowcount != len(chunk):
            raise _Unsettled()
        written(group[start:])
        return
