"""Database errors as messages a person can act on, naming the field when it can be told.

``NOT NULL constraint failed: customers.CustomerGroupId`` becomes ``CustomerGroupId is required``;
a trigger's ``CustomerGroupId does not exist in company`` becomes ``CustomerGroupId '99' does not
exist in company``. PostgreSQL errors are read from psycopg's diagnostics (column, constraint,
detail) rather than from the text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from integrator.connectors.sql.schema import TableModel

__all__ = ["RowProblem", "explain", "is_row_error"]

#: SQLSTATE classes of errors caused by the row's values: data exception, integrity constraint
#: violation, PL/pgSQL RAISE (triggers)
_ROW_SQLSTATE_CLASSES = ("22", "23", "P0")


@dataclass(frozen=True)
class RowProblem:
    """Why one row was refused."""

    message: str
    field: str | None


def is_row_error(error: sa.exc.StatementError) -> bool:
    """True when ``error`` is about the rows written (a constraint, trigger or value), not the
    connection or the statement; only such errors are worth isolating row by row."""
    if not isinstance(error, sa.exc.DBAPIError):  # a value the driver could not bind
        return isinstance(error.orig, TypeError | ValueError | OverflowError)
    sqlstate = _sqlstate(error)
    if sqlstate is not None:
        return sqlstate[:2] in _ROW_SQLSTATE_CLASSES
    return isinstance(error, sa.exc.IntegrityError | sa.exc.DataError)


def explain(
    error: sa.exc.StatementError,
    row: Mapping[str, Any],
    model: TableModel,
    *,
    deleting: bool = False,
) -> RowProblem:
    """The reason ``row`` (column -> value as written, or the key deleted) was refused, in words
    and with its field."""
    if not isinstance(error, sa.exc.DBAPIError):
        return RowProblem(f"a value cannot be stored: {error.orig}", None)
    diag = getattr(error.orig, "diag", None)
    if diag is not None and _sqlstate(error) is not None:
        return _explain_postgres(error, diag, row, model)
    message = _first_line(str(error.orig))
    if deleting and message.startswith("FOREIGN KEY constraint failed"):
        return RowProblem(f"the {model.info.name} record is still used by other records", None)
    return _explain_text(message, row, model)


def _sqlstate(error: sa.exc.DBAPIError) -> str | None:
    state = getattr(error.orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "the database refused the record"


_SQLITE_NOT_NULL = re.compile(r"NOT NULL constraint failed: (?:[\w$]+\.)?([\w$]+)")
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (.+)")
_SQLITE_STRICT = re.compile(r"cannot store (\w+) value in (\w+) column (?:[\w$]+\.)?([\w$]+)")


def _explain_text(message: str, row: Mapping[str, Any], model: TableModel) -> RowProblem:
    if match := _SQLITE_NOT_NULL.match(message):
        return RowProblem(f"{match.group(1)} is required", match.group(1))
    if match := _SQLITE_UNIQUE.match(message):
        columns = [part.strip().split(".")[-1] for part in match.group(1).split(",")]
        return _already_exists(columns, [row.get(c) for c in columns])
    if match := _SQLITE_CHECK.match(message):
        return _check_failed(match.group(1).strip(), row, model)
    if message.startswith("FOREIGN KEY constraint failed"):
        return _missing_reference(row, model)
    if match := _SQLITE_STRICT.match(message):
        name = match.group(3)
        return RowProblem(
            f"{name} {_quoted(row.get(name))} is not a valid {match.group(2).lower()}", name
        )
    if message == "datatype mismatch":
        return RowProblem("a value does not fit its column's type", None)
    return _trigger_message(message, row, model)


def _explain_postgres(
    error: sa.exc.DBAPIError, diag: Any, row: Mapping[str, Any], model: TableModel
) -> RowProblem:
    state = _sqlstate(error) or ""
    column: str | None = diag.column_name
    constraint: str | None = diag.constraint_name
    detail: str | None = diag.message_detail
    primary: str = diag.message_primary or _first_line(str(error.orig))
    if state == "23502" and column:  # not_null_violation
        return RowProblem(f"{column} is required", column)
    if state == "23505":  # unique_violation
        if detail and (match := re.match(r"Key \((.+)\)=\((.*)\) already exists", detail)):
            columns = [c.strip().strip('"') for c in match.group(1).split(",")]
            return _already_exists(columns, [row.get(c) for c in columns])
        return RowProblem(f"a record with the same {constraint or 'key'} already exists", None)
    if state == "23503":  # foreign_key_violation
        pattern = r'Key \((.+)\)=\((.*)\) is not present in table "(.+)"'
        used = r'Key \((.+)\)=\((.*)\) is still referenced from table "(.+)"'
        if detail and (match := re.match(used, detail)):
            return RowProblem(
                f"the {model.info.name} record is still used by other records in {match.group(3)}",
                None,
            )
        if detail and (match := re.match(pattern, detail)):
            name = match.group(1).strip('"')
            return RowProblem(
                f"{name} {_quoted(row.get(name, match.group(2)))} does not exist in "
                f"{match.group(3)}",
                name if name in model.table.c else None,
            )
        return RowProblem(primary, None)
    if state == "23514" and constraint:  # check_violation
        return _check_failed(constraint, row, model)
    if state == "22001":  # string_data_right_truncation
        return _too_long(row, model) or RowProblem(primary, column)
    if state == "22003":  # numeric_value_out_of_range
        return _out_of_range(primary, row, model) or RowProblem(primary, column)
    if state in ("22P02", "22007", "22008"):  # invalid text representation, datetime
        match = re.search(r': "(.*)"$', primary)
        if match:
            for name, value in row.items():
                if value is not None and str(value) == match.group(1):
                    return RowProblem(f"{name} {_quoted(value)}: {primary.split(':')[0]}", name)
        return RowProblem(primary, column)
    if state.startswith("P0"):  # RAISE in a trigger or function
        return _trigger_message(primary, row, model)
    text = f"{primary} ({detail})" if detail else primary
    return RowProblem(text, column if column and column in model.table.c else None)


def _already_exists(columns: list[str], values: list[Any]) -> RowProblem:
    shown = ", ".join(columns)
    value = ", ".join(_quoted(v) for v in values)
    return RowProblem(f"{shown} {value} already exists", columns[0] if len(columns) == 1 else None)


def _check_failed(constraint: str, row: Mapping[str, Any], model: TableModel) -> RowProblem:
    rule = model.checks.get(constraint, constraint)
    field = _mentioned_column(rule, row, model) or _mentioned_column(constraint, row, model)
    if field is not None:
        return RowProblem(
            f"{field} {_quoted(row.get(field))} breaks the rule {rule!r}",
            field,
        )
    return RowProblem(f"the record breaks the rule {rule!r}", None)


def _missing_reference(row: Mapping[str, Any], model: TableModel) -> RowProblem:
    """SQLite does not say which foreign key failed: name the first one the row actually sets."""
    for column, (target, _) in model.foreign_keys.items():
        if row.get(column) is not None:
            return RowProblem(f"{column} {_quoted(row[column])} does not exist in {target}", column)
    return RowProblem("a referenced record does not exist", None)


def _too_long(row: Mapping[str, Any], model: TableModel) -> RowProblem | None:
    for name, value in row.items():
        info = model.info.fields.get(name)
        if info and info.max_length and isinstance(value, str) and len(value) > info.max_length:
            return RowProblem(
                f"{name} is longer than {info.max_length} characters ({len(value)})", name
            )
    return None


_INTEGER_LIMITS = ((sa.SmallInteger, 2**15), (sa.BigInteger, 2**63), (sa.Integer, 2**31))


def _out_of_range(primary: str, row: Mapping[str, Any], model: TableModel) -> RowProblem | None:
    for name, value in row.items():
        if name not in model.table.c or isinstance(value, bool):
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        column_type = model.table.c[name].type
        for kind, limit in _INTEGER_LIMITS:
            if isinstance(column_type, kind):
                if not -limit <= number < limit:
                    return RowProblem(f"{name} {value} is out of range ({primary})", name)
                break
    return None


def _trigger_message(message: str, row: Mapping[str, Any], model: TableModel) -> RowProblem:
    """Keep the trigger's own words; put the row's value right after the field it names."""
    field = _mentioned_column(message, row, model)
    if field is None:
        return RowProblem(message, None)
    value = row.get(field)
    if value is None or _quoted(value) in message or str(value) in message.split():
        return RowProblem(message, field)
    at = re.search(rf"(?<![\w$]){re.escape(field)}(?![\w$])", message)
    assert at is not None  # _mentioned_column found it
    return RowProblem(f"{message[: at.end()]} {_quoted(value)}{message[at.end() :]}", field)


def _mentioned_column(text: str, row: Mapping[str, Any], model: TableModel) -> str | None:
    """The column the text names first (longest name wins a tie), preferring the row's own."""
    best: tuple[int, int, str] | None = None
    for name in model.table.c.keys():  # noqa: SIM118 (ColumnCollection iterates columns)
        match = re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", text)
        if match is None:
            continue
        rank = (match.start(), -len(name), name)
        if best is None or rank < best:
            best = rank
    if best is not None:
        return best[2]
    lowered = text.lower()
    for name in row:
        if name.lower() in lowered:
            return name
    return None


_SHOWN = 60


def _quoted(value: Any) -> str:
    """The value as a message shows it: numbers bare, text quoted and cut when long."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if len(text) > _SHOWN:
        text = text[: _SHOWN - 1] + "…"
    return "'" + text.replace("'", "''") + "'"
