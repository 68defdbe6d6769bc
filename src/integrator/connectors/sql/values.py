"""Values between records (JSON-compatible) and the database (the column's Python type)."""

from __future__ import annotations

import base64
import functools
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from integrator.connectors.base import FieldType
from integrator.connectors.values import as_boolean

__all__ = ["ColumnConverter", "ValueProblem", "from_db", "reader", "to_db", "writer"]


class ValueProblem(ValueError):
    """A record value that cannot be stored in its column; the message names field and value."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def from_db(value: Any) -> Any:
    """A database value as a JSON-compatible record value (decimals as float, times as ISO)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() == UTC.utcoffset(None):
            return value.replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


#: which value types a column takes as they are, and the conversion for any other value
ColumnConverter = tuple[frozenset[type], Callable[[Any], Any]]

#: values a record holds that :func:`from_db` returns unchanged
_JSON_NATIVE = frozenset({type(None), str, bool, int, float})


def writer(name: str, kind: FieldType, column_type: sa.types.TypeEngine[Any]) -> ColumnConverter:
    """:func:`to_db` for one column, the choice by kind and type made once: the value types
    ``to_db`` returns unchanged for it (``None``; ``str`` for text, ``int`` for whole
    numbers), and ``to_db`` bound to the column for every other value."""
    kept: set[type] = {type(None)}
    if not isinstance(column_type, sa.LargeBinary):
        if kind in ("string", "enum"):
            kept.add(str)
        elif kind == "integer":
            kept.add(int)
    convert = functools.partial(to_db, name, kind=kind, column_type=column_type)
    return frozenset(kept), convert


def reader(column_type: sa.types.TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """:func:`from_db` for a result column of ``column_type``, or ``None`` when the driver's
    values for it are records' values already (text, whole numbers, floats, booleans)."""
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return from_db
    return None if python_type in _JSON_NATIVE else from_db


def to_db(name: str, value: Any, kind: FieldType, column_type: sa.types.TypeEngine[Any]) -> Any:
    """``value`` as the Python type the column binds; raises :class:`ValueProblem` when it can't.

    Strings holding numbers, booleans and ISO timestamps are accepted for such columns, so a
    source that sends ``"10"`` for an integer column is not rejected and compares equal to 10.
    """
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise ValueProblem(name, f"{name} cannot hold a structured value ({type(value).__name__})")
    if isinstance(column_type, sa.LargeBinary):
        return _binary(name, value)
    if kind == "integer":
        return _integer(name, value)
    if kind == "decimal":
        number = _decimal(name, value)
        return float(number) if isinstance(column_type, sa.Float) else number
    if kind == "boolean":
        return _boolean(name, value)
    if kind == "datetime":
        if isinstance(column_type, sa.String):  # SQLite keeps the text as given
            text = value.isoformat() if isinstance(value, date | time) else str(value)
            _datetime(name, text, column_type)
            return text
        return _datetime(name, value, column_type)
    if kind == "guid" and not isinstance(value, uuid.UUID):
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise ValueProblem(name, f"{name} {value!r} is not a GUID") from None
    if kind in ("string", "enum") and not isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value


def _binary(name: str, value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return base64.b64decode(str(value), validate=True)
    except ValueError:
        raise ValueProblem(name, f"{name} {value!r} is not base64 binary") from None


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueProblem(name, f"{name} {value!r} is not a whole number")


def _decimal(name: str, value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueProblem(name, f"{name} {value!r} is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueProblem(name, f"{name} {value!r} is not a number") from None
    if not number.is_finite():
        raise ValueProblem(name, f"{name} {value!r} is not a number")
    return number


def _boolean(name: str, value: Any) -> bool:
    result = as_boolean(value)
    if result is None:
        raise ValueProblem(name, f"{name} {value!r} is not true or false")
    return result


def _datetime(name: str, value: Any, column_type: sa.types.TypeEngine[Any]) -> Any:
    if isinstance(value, datetime | date | time):
        parsed: Any = value
    else:
        parsed = _parsed(str(value))
        if parsed is None:
            raise ValueProblem(name, f"{name} {value!r} is not a date and time (ISO 8601)")
    if isinstance(column_type, sa.Date) and isinstance(parsed, datetime):
        return parsed.date()
    if isinstance(column_type, sa.DateTime) and isinstance(parsed, datetime):
        aware = bool(column_type.timezone)
        if aware and parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        if not aware and parsed.tzinfo is not None:
            return parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _parsed(text: str) -> datetime | date | time | None:
    for parse in (datetime.fromisoformat, date.fromisoformat, time.fromisoformat):
        try:
            return parse(text.strip())
        except ValueError:
            continue
    return None
