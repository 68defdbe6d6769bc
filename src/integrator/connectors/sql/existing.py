"""The rows already stored under a batch's keys: one ``SELECT`` per chunk of keys.

Keys are grouped by all but their last part and asked as ``Org = ? AND Id IN (?, ...)``, ORed
per group: index searches everywhere (a row-value ``IN`` makes SQLite scan the whole table).
On SQLite the SQL text is compiled once per table, columns and shape of the chunk and sent
through the driver with the keys as plain parameters, each column through its type's bind and
result conversion only when it has one; other dialects get the same condition built by
SQLAlchemy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

__all__ = ["fetch_existing", "folded_key"]

#: keys per ``IN (...)`` when fetching existing rows, well under every driver's parameter limit
_FETCH_CHUNK = 500

_Conversion = Callable[[Any], Any] | None


def fetch_existing(
    connection: Connection,
    table: sa.Table,
    key: Sequence[str],
    keys: list[tuple[Any, ...]],
    wanted: set[str],
) -> dict[tuple[Any, ...], Mapping[Any, Any]]:
    """The stored rows for ``keys`` (the key and ``wanted`` columns, by name), by key.

    Each row is also found under :func:`folded_key` of its stored key: the database matched the
    key under its own collation, and a case-insensitive one (SQLite NOCASE, the sandbox's keys)
    may return ``'usmf'`` for ``'USMF'``.
    """
    names = (*key, *sorted(wanted - set(key)))
    sqlite = connection.dialect.name == "sqlite"
    found: dict[tuple[Any, ...], Mapping[Any, Any]] = {}
    for start in range(0, len(keys), _FETCH_CHUNK):
        chunk = keys[start : start + _FETCH_CHUNK]
        rows = (
            _driver_rows(connection, table, names, len(key), chunk)
            if sqlite
            else _sqlalchemy_rows(connection, table, names, len(key), chunk)
        )
        for row in rows:
            stored_key = tuple(row[k] for k in key)
            found[stored_key] = row
            found.setdefault(folded_key(stored_key), row)
    return found


def folded_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """``key`` with its text case-folded: how a case-insensitive database compares it."""
    return ("\0casefolded", *(k.casefold() if isinstance(k, str) else k for k in key))


def _grouped(keys: Iterable[tuple[Any, ...]]) -> dict[tuple[Any, ...], list[Any]]:
    """Keys by all but their last part -> the last parts."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for key in keys:
        groups.setdefault(key[:-1], []).append(key[-1])
    return groups


def _sqlalchemy_rows(
    connection: Connection,
    table: sa.Table,
    names: tuple[str, ...],
    key_length: int,
    keys: list[tuple[Any, ...]],
) -> Iterable[Mapping[Any, Any]]:
    columns = [table.c[n] for n in names[:key_length]]
    condition: sa.ColumnElement[bool]
    if key_length == 1:
        condition = columns[0].in_([k[0] for k in keys])
    else:
        condition = sa.or_(
            *(
                sa.and_(
                    *(column == value for column, value in zip(columns, prefix, strict=False)),
                    columns[-1].in_(last),
                )
                for prefix, last in _grouped(keys).items()
            )
        )
    select = sa.select(*(table.c[n] for n in names)).where(condition)
    return connection.execute(select).mappings()


def _driver_rows(
    connection: Connection,
    table: sa.Table,
    names: tuple[str, ...],
    key_length: int,
    keys: list[tuple[Any, ...]],
) -> Iterable[Mapping[Any, Any]]:
    binds, results = _conversions(table, connection.dialect, names)
    key_binds = binds[:key_length]
    if any(key_binds):
        keys = [
            tuple(v if bind is None else bind(v) for bind, v in zip(key_binds, k, strict=True))
            for k in keys
        ]
    groups = _grouped(keys)
    parameters: list[Any] = []
    for prefix, last in groups.items():
        parameters.extend(prefix)
        parameters.extend(last)
    shape = tuple(len(last) for last in groups.values())
    sql = _select_text(table, connection.dialect, names, key_length, shape)
    rows = connection.exec_driver_sql(sql, tuple(parameters)).all()
    found = [dict(zip(names, row, strict=True)) for row in rows]
    for name, convert in zip(names, results, strict=True):
        if convert is not None:
            for stored in found:
                stored[name] = convert(stored[name])
    return found


@functools.lru_cache(maxsize=256)
def _conversions(
    table: sa.Table, dialect: Dialect, names: tuple[str, ...]
) -> tuple[tuple[_Conversion, ...], tuple[_Conversion, ...]]:
    """Each column's bind and result conversion on ``dialect`` (``None``: the value as it is)."""
    types = [table.c[n].type.dialect_impl(dialect) for n in names]
    return (
        tuple(t.bind_processor(dialect) for t in types),
        tuple(t.result_processor(dialect, None) for t in types),
    )


@functools.lru_cache(maxsize=256)
def _select_text(
    table: sa.Table,
    dialect: Dialect,
    names: tuple[str, ...],
    key_length: int,
    shape: tuple[int, ...],
) -> str:
    """The SQL text selecting ``names`` where one ``prefix AND last IN (...)`` per group of
    ``shape`` (its number of last parts) holds, a ``?`` for each parameter, the parameters
    given group by group (its prefix, then its last parts).

    SQLAlchemy renders the ``SELECT`` and the column names; the condition, a few hundred
    ``?`` long, is joined here (compiling it costs tens of milliseconds per shape)."""
    selected = [table.c[n] for n in names]
    head = str(sa.select(*selected).compile(dialect=dialect))
    *prefix, last = (str(column.compile(dialect=dialect)) for column in selected[:key_length])
    groups = [
        " AND ".join([*(f"{c} = ?" for c in prefix), f"{last} IN ({', '.join('?' * size)})"])
        for size in shape
    ]
    return f"{head} \nWHERE " + " OR ".join(groups)
