"""Reading: the SELECT for the asked fields (lookups as LEFT JOINs), filter push-down, keyset pages.

Pages are fetched by keyset on the primary key (``WHERE key > :last ORDER BY key LIMIT n``),
each page its own short query, so a read of millions of rows never holds a cursor open and
never slows down the way ``OFFSET`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.sql import ColumnElement

from integrator.connectors.base import Record
from integrator.connectors.sql.filters import compile_filter
from integrator.connectors.sql.schema import TableModel
from integrator.connectors.sql.values import reader
from integrator.errors import RequestRejected
from integrator.odata.filter import (
    Expr,
    UnknownFieldError,
    parse_filter,
    referenced_fields,
)

__all__ = ["Query", "build_query", "keyset_after", "read_pages"]


@dataclass
class Query:
    """A SELECT of the asked fields plus hidden paging columns, ready to be filtered and paged."""

    select: sa.Select[Any]
    #: (record field, result label) for each asked field, in order
    outputs: list[tuple[str, str]]
    #: the paging/order columns and their result labels
    order: list[tuple[ColumnElement[Any], str]]
    resolve: _Resolver
    #: every result label (the asked fields', then the hidden ones), in the raw rows' order
    labels: tuple[str, ...]
    #: for each asked field, how a database value becomes the record's (``None``: as it is)
    readers: tuple[Callable[[Any], Any] | None, ...]

    def position(self, label: str) -> int:
        """Where the column labelled ``label`` is in a raw row."""
        return self.labels.index(label)


class _Resolver:
    """Field path -> column; dotted paths (``a.b`` or OData's ``a/b``) add LEFT JOINs once each."""

    def __init__(self, model: TableModel) -> None:
        self.model = model
        self.source: sa.FromClause = model.table
        self.joined: dict[tuple[str, str], sa.FromClause] = {}

    def __call__(self, path: str) -> ColumnElement[Any]:
        table = self.model.table
        if path in table.c:
            return table.c[path]
        parts = path.replace("/", ".").split(".")
        if len(parts) != 2:
            raise KeyError(path)
        name, target_field = parts
        columns = [
            self._join(lookup, i).c[target_field]
            for lookup, i in self._targets(name)
            if target_field in self.model.lookups[lookup][i].target.c
        ]
        if not columns:
            raise KeyError(path)
        return columns[0] if len(columns) == 1 else sa.func.coalesce(*columns)

    def _targets(self, name: str) -> list[tuple[str, int]]:
        """The lookup targets ``name`` reaches: all of a lookup's, or, for a Dataverse navigation
        name such as ``parentcustomerid_account``, the one whose type value it ends with."""
        if name in self.model.lookups:
            return [(name, i) for i in range(len(self.model.lookups[name]))]
        return [
            (lookup, i)
            for lookup, targets in self.model.lookups.items()
            for i, target in enumerate(targets)
            if target.type_value is not None and name == f"{lookup}_{target.type_value}"
        ]

    def _join(self, name: str, index: int) -> sa.FromClause:
        if (name, str(index)) in self.joined:
            return self.joined[(name, str(index))]
        table = self.model.table
        target = self.model.lookups[name][index]
        alias = target.target.alias(f"lk_{len(self.joined)}")
        on = table.c[target.column] == alias.c[target.target_key]
        if target.type_column is not None:
            on = sa.and_(on, table.c[target.type_column] == target.type_value)
        self.source = self.source.outerjoin(alias, on)
        self.joined[(name, str(index))] = alias
        return alias


def build_query(
    model: TableModel,
    fields: Sequence[str],
    *,
    filter: str | Expr | None,
    case_insensitive: bool,
    extra: Sequence[str] = (),
) -> Query:
    """The SELECT for ``fields`` (and hidden ``extra`` columns), filtered, ordered for paging.

    Raises ``RequestRejected`` (code ``unknown-field``) for a field the table does not have.
    """
    resolve = _Resolver(model)
    labelled: list[ColumnElement[Any]] = []
    outputs: list[tuple[str, str]] = []
    for i, name in enumerate(fields):
        labelled.append(_column(resolve, name, model).label(f"f{i}"))
        outputs.append((name, f"f{i}"))
    order: list[tuple[ColumnElement[Any], str]] = []
    for i, name in enumerate((*model.paging_key, *extra)):
        column = _column(resolve, name, model)
        labelled.append(column.label(f"k{i}"))
        order.append((column, f"k{i}"))
    condition = None
    if filter is not None:
        expr = parse_filter(filter) if isinstance(filter, str) else filter
        try:
            columns = {path: resolve(path) for path in referenced_fields(expr)}
        except KeyError as missing:
            raise RequestRejected(
                f"{model.info.name} has no field {missing.args[0]!r} (in $filter)",
                code="unknown-field",
            ) from None
        typed = {name for name in columns if model.kinds.get(name) in ("datetime", "guid")}
        try:
            condition = compile_filter(
                expr,
                columns,
                case_insensitive=case_insensitive,
                sqlite=model.dialect == "sqlite",
                typed=typed,
                kinds=model.kinds,
            )
        except UnknownFieldError as error:
            raise RequestRejected(str(error), code="unknown-field") from None
    select = sa.select(*labelled).select_from(resolve.source)
    if condition is not None:
        select = select.where(condition)
    return Query(
        select=select,
        outputs=outputs,
        order=order,
        resolve=resolve,
        labels=tuple(column.name for column in labelled),
        readers=tuple(reader(column.type) for column in labelled[: len(outputs)]),
    )


def _column(resolve: _Resolver, name: str, model: TableModel) -> ColumnElement[Any]:
    try:
        return resolve(name)
    except KeyError:
        raise RequestRejected(
            f"{model.info.name} has no field {name!r}", code="unknown-field"
        ) from None


def keyset_after(
    order: Sequence[tuple[ColumnElement[Any], str]], last: Sequence[Any]
) -> ColumnElement[bool]:
    """The condition 'comes after ``last``' in the order of ``order``'s columns."""
    columns = [column for column, _ in order]
    if len(columns) == 1:
        after: ColumnElement[bool] = columns[0] > last[0]
        return after
    return sa.tuple_(*columns) > sa.tuple_(*(sa.literal(v) for v in last))


def read_pages(
    engine: Engine,
    query: Query,
    page_size: int,
    *,
    after: Sequence[Any] | None = None,
) -> Iterator[tuple[list[Record], Sequence[sa.Row[Any]]]]:
    """Yield (records, raw rows) page by page, keyset-paged on ``query.order``.

    Raw rows are the database's values in the order of ``query.labels``, the hidden order
    columns included (for checkpoints: :meth:`Query.position` finds a label). A table with no
    usable key is streamed in one ordered-less pass, ``page_size`` rows at a time.
    """
    if not query.order:
        yield from _stream(engine, query, page_size)
        return
    ordered = query.select.order_by(*(column for column, _ in query.order)).limit(page_size)
    positions = [query.position(label) for _, label in query.order]
    last = after
    while True:
        statement = ordered if last is None else ordered.where(keyset_after(query.order, last))
        with engine.connect() as connection:
            rows = connection.execute(statement).all()
        if not rows:
            return
        yield _records(query, rows), rows
        if len(rows) < page_size:
            return
        last = [rows[-1][i] for i in positions]


def _stream(
    engine: Engine, query: Query, page_size: int
) -> Iterator[tuple[list[Record], Sequence[sa.Row[Any]]]]:
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=page_size).execute(query.select)
        for partition in result.partitions(page_size):
            yield _records(query, partition), partition


def _records(query: Query, rows: Sequence[sa.Row[Any]]) -> list[Record]:
    """The asked fields of ``rows`` as records, each column through its reader if it has one.

    Field names may repeat (the same column asked twice): the record holds it once."""
    names = [name for name, _ in query.outputs]
    records: list[Record] = [dict(zip(names, row, strict=False)) for row in rows]
    for i, (name, convert) in enumerate(zip(names, query.readers, strict=True)):
        if convert is not None:
            for record, row in zip(records, rows, strict=True):
                record[name] = convert(row[i])
    return records
