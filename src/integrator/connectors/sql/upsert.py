"""Bulk upsert: one query for the batch's existing rows, classify in Python, write in bulk.

Per batch, in one transaction:

1. every record is checked and converted (unknown field, missing key, a value its column cannot
   hold: that record fails alone, before any SQL);
2. one ``SELECT`` fetches the rows already stored under the batch's keys;
3. each record is *unchanged* (every given value already stored: nothing is written),
   an *update* (only the given fields are set) or an *insert*;
4. inserts and updates are written in bulk (``executemany``; one ``unnest()`` statement per
   group on PostgreSQL); the rows the database refuses are isolated by
   :mod:`integrator.connectors.sql.isolate`, and every good row is still written.

A record whose key repeats within a batch is applied after the earlier one, in a later round.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from integrator.connectors.base import Outcome, Record, RecordResult
from integrator.connectors.sql.continuing import write_continuing
from integrator.connectors.sql.errors import explain
from integrator.connectors.sql.existing import fetch_existing, folded_key
from integrator.connectors.sql.isolate import RowsSkipped, write_isolating_refusals
from integrator.connectors.sql.schema import TableModel
from integrator.connectors.sql.values import ValueProblem
from integrator.connectors.values import same_value
from integrator.errors import RequestRejected

__all__ = ["folded_key", "upsert_batch"]


@dataclass
class _Write:
    index: int
    key: tuple[Any, ...]
    values: dict[str, Any]
    kind: Literal["insert", "update"] = "insert"


def upsert_batch(
    connection: Connection, model: TableModel, records: Sequence[Record], key: Sequence[str]
) -> list[RecordResult]:
    """Upsert ``records`` matched on ``key`` in the caller's open transaction; one result each."""
    table = model.table
    for name in key:
        if name not in table.c:
            raise RequestRejected(
                f"{model.info.name} has no key field {name!r}", code="unknown-field"
            )
    results: list[RecordResult | None] = [None] * len(records)
    rounds: list[dict[tuple[Any, ...], _Write]] = []
    convert = _Converter(model)
    for index, record in enumerate(records):
        try:
            write = _prepare(index, record, convert, key)
        except ValueProblem as problem:
            record_key = _record_key(record, key)
            results[index] = RecordResult(record_key, Outcome.ERROR, str(problem), problem.field)
            continue
        for batch in rounds:
            if write.key not in batch:
                batch[write.key] = write
                break
        else:
            rounds.append({write.key: write})

    for batch in rounds:
        wanted = {name for write in batch.values() for name in write.values}
        existing = fetch_existing(connection, model.table, key, list(batch), wanted)
        writes = []
        for write_key, write in batch.items():
            stored = existing.get(write_key)
            if stored is None:
                stored = existing.get(folded_key(write_key))
            if stored is None:
                writes.append(write)
            elif all(
                same_value(model.kinds[c], stored[c], v, blank_is_null=False)
                for c, v in write.values.items()
                if c not in key
            ):
                record_key = _record_key(records[write.index], key)
                results[write.index] = RecordResult(record_key, Outcome.UNCHANGED)
            else:
                write.kind = "update"
                writes.append(write)
        _write_isolating_bad_rows(connection, model, key, writes, records, results)
    return [r for r in results if r is not None]


def _prepare(index: int, record: Record, convert: _Converter, key: Sequence[str]) -> _Write:
    values = convert(record)
    for name in key:
        if values.get(name) is None:
            raise ValueProblem(name, f"key field {name} is missing")
    return _Write(index, tuple(values[k] for k in key), values)


@dataclass(frozen=True)
class _Plan:
    """How the records giving one set of fields are converted."""

    #: (value types kept as they are, the values of the columns keeping them)
    checks: tuple[tuple[frozenset[type], Callable[[Record], tuple[Any, ...]]], ...]
    #: the columns whose every non-null value goes through its conversion, in record order
    converted: tuple[tuple[str, Callable[[Any], Any]], ...]


class _Converter:
    """A record's values as its columns bind them (:func:`values.to_db`), the work chosen
    once per set of fields: the values that are already of their column's type (text for
    text, whole numbers for integers) are checked a column group at a time and kept."""

    def __init__(self, model: TableModel) -> None:
        self.model = model
        self.plans: dict[tuple[str, ...], _Plan | None] = {}

    def __call__(self, record: Record) -> dict[str, Any]:
        """The converted values; raises :class:`ValueProblem` for the first one (in record
        order) that its column cannot hold, or a field the table does not let be written."""
        fields = tuple(record)
        try:
            plan = self.plans[fields]
        except KeyError:
            plan = self.plans[fields] = self._plan(fields)
        if plan is None or not all(
            kept.issuperset(map(type, pick(record))) for kept, pick in plan.checks
        ):
            return self._one_by_one(record)
        values = dict(record)
        for name, convert in plan.converted:
            value = values[name]
            if value is not None:
                values[name] = convert(value)
        return values

    def _plan(self, fields: tuple[str, ...]) -> _Plan | None:
        """``None`` when a field is not writable (the record fails one value at a time)."""
        writable = self.model.writable
        if not all(name in writable for name in fields):
            return None
        kept_by: dict[frozenset[type], list[str]] = {}
        converted = []
        for name in fields:
            kept, convert = writable[name]
            if kept == _ONLY_NULL:
                converted.append((name, convert))
            else:
                kept_by.setdefault(kept, []).append(name)
        return _Plan(
            checks=tuple((kept, _picker(names)) for kept, names in kept_by.items()),
            converted=tuple(converted),
        )

    def _one_by_one(self, record: Record) -> dict[str, Any]:
        writable = self.model.writable
        values: dict[str, Any] = {}
        for name, value in record.items():
            column = writable.get(name)
            if column is None:
                if name in self.model.info.fields:
                    raise ValueProblem(
                        name, f"{name} is maintained by the database and cannot be written"
                    )
                raise ValueProblem(name, f"{self.model.info.name} has no field {name!r}")
            kept, convert = column
            values[name] = value if value.__class__ in kept else convert(value)
        return values


_ONLY_NULL = frozenset({type(None)})


def _picker(names: Sequence[str]) -> Callable[[Record], tuple[Any, ...]]:
    """The values of ``names`` in a record, as a tuple."""
    if len(names) == 1:
        name = names[0]
        return lambda record: (record[name],)
    return operator.itemgetter(*names)


def _write_isolating_bad_rows(
    connection: Connection,
    model: TableModel,
    key: Sequence[str],
    writes: list[_Write],
    records: Sequence[Record],
    results: list[RecordResult | None],
) -> None:
    def written(group: list[_Write]) -> None:
        for write in group:
            outcome = Outcome.INSERTED if write.kind == "insert" else Outcome.UPDATED
            results[write.index] = RecordResult(_record_key(records[write.index], key), outcome)

    def refused(
        write: _Write, error: Exception
    ) -> tuple[Hashable, Callable[[_Write], bool]] | None:
        given = records[write.index]
        record_key = _record_key(given, key)
        if not isinstance(error, sa.exc.StatementError):
            results[write.index] = RecordResult(record_key, Outcome.ERROR, _SKIPPED_MESSAGE)
            return None
        shown = {c: given.get(c, v) for c, v in write.values.items()}
        problem = explain(error, shown, model)
        results[write.index] = RecordResult(
            record_key, Outcome.ERROR, problem.message, problem.field
        )
        if problem.field is None:
            return None
        fault = (problem.field, repr(write.values.get(problem.field)))
        return fault, _alike(write, problem.field, model)

    if model.continues_after_refusal:
        # SQLite: one executemany per group, carrying on after each refused row; what it
        # cannot settle is isolated below
        writes = write_continuing(
            connection, model.table, model.info.name, key, writes, written=written, refused=refused
        )
    write_isolating_refusals(
        connection,
        model.info.name,
        writes,
        lambda group: _execute(connection, model, key, group),
        written=written,
        refused=refused,
    )


def _alike(refused: _Write, field: str, model: TableModel) -> Callable[[_Write], bool]:
    """Writes that give ``field`` the value the refused write gave it (or leave it empty)."""
    value = refused.values.get(field)
    kind = model.kinds.get(field, "string")

    def alike(write: _Write) -> bool:
        if field not in write.values:
            return value is None and write.kind == "insert"
        return same_value(kind, write.values[field], value, blank_is_null=False)

    return alike


def _execute(
    connection: Connection, model: TableModel, key: Sequence[str], writes: list[_Write]
) -> None:
    """Inserts then updates, in bulk, one statement per distinct set of given fields."""
    table = model.table
    groups: dict[tuple[str, frozenset[str]], list[_Write]] = {}
    for write in writes:
        groups.setdefault((write.kind, frozenset(write.values)), []).append(write)
    # SQLAlchemy keeps the row count of an INSERT only when asked to
    connection = connection.execution_options(preserve_rowcount=True)
    for (kind, columns), group in groups.items():
        names = sorted(columns - set(key))
        if kind == "update" and not names:
            continue
        if connection.dialect.name == "postgresql":
            # whole columns bound as arrays: one short cached statement per group, and a refused
            # row fails it cleanly (psycopg's pipelined executemany aborts noisily)
            written = connection.execute(*_unnest_statement(table, key, kind, names, group))
        else:
            written = _execute_many(connection, table, key, kind, names, group)
        if 0 <= written.rowcount < len(group):
            raise RowsSkipped()


_SKIPPED_MESSAGE = "the database skipped this record without an error (a trigger ignored it)"


def _execute_many(
    connection: Connection,
    table: sa.Table,
    key: Sequence[str],
    kind: str,
    names: list[str],
    group: list[_Write],
) -> sa.CursorResult[Any]:
    if kind == "insert":
        return connection.execute(sa.insert(table), [w.values for w in group])
    statement = (
        sa.update(table)
        .where(*(table.c[k] == sa.bindparam(f"__k{i}") for i, k in enumerate(key)))
        .values({table.c[n]: sa.bindparam(f"__v{i}") for i, n in enumerate(names)})
    )
    parameters = [
        {
            **{f"__k{i}": w.values[k] for i, k in enumerate(key)},
            **{f"__v{i}": w.values[n] for i, n in enumerate(names)},
        }
        for w in group
    ]
    return connection.execute(statement, parameters)


def _unnest_statement(
    table: sa.Table, key: Sequence[str], kind: str, names: list[str], group: list[_Write]
) -> tuple[sa.Executable, dict[str, Any]]:
    """PostgreSQL: ``INSERT .. SELECT FROM unnest(arrays)`` or ``UPDATE .. FROM unnest(..)``."""
    columns = [*key, *names] if kind == "update" else sorted(group[0].values)
    arrays = [
        sa.bindparam(f"a{i}", type_=postgresql.ARRAY(_unsized(table.c[c].type)))
        for i, c in enumerate(columns)
    ]
    incoming = (
        sa.func.unnest(*arrays)
        .table_valued(*(sa.column(f"c{i}", table.c[c].type) for i, c in enumerate(columns)))
        .render_derived(name="incoming")
    )
    value = {c: incoming.c[f"c{i}"] for i, c in enumerate(columns)}
    parameters = {f"a{i}": [w.values[c] for w in group] for i, c in enumerate(columns)}
    if kind == "insert":
        select = sa.select(*(value[c] for c in columns))
        return sa.insert(table).from_select(columns, select), parameters
    statement = (
        sa.update(table)
        .where(*(table.c[k] == value[k] for k in key))
        .values({table.c[n]: value[n] for n in names})
    )
    return statement, parameters


def _unsized(column_type: sa.types.TypeEngine[Any]) -> sa.types.TypeEngine[Any]:
    """The type without length or scale: a cast to ``VARCHAR(5)`` would cut text silently,
    where assigning to the column refuses it."""
    if isinstance(column_type, sa.String):
        return sa.String()
    if isinstance(column_type, sa.Numeric) and not isinstance(column_type, sa.Float):
        return sa.Numeric()
    return column_type


def _record_key(record: Record, key: Sequence[str]) -> dict[str, Any]:
    return {k: record.get(k) for k in key}
