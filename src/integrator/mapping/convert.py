"""Conversion of a mapped column to its destination field's type, a whole column at a time.

The common case (every value already of the right type) is checked with C-level passes and
returns the column untouched; only columns holding something else take the per-value path, which
converts each distinct value once.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from integrator.connectors.base import FieldInfo, FieldType
from integrator.connectors.values import as_boolean

__all__ = ["ConversionFailed", "can_convert", "column_converter", "convert_value"]

_NONE = type(None)

#: source type -> destination types a value of it can become (checked before a run)
_CONVERTIBLE: dict[str, frozenset[str]] = {
    "string": frozenset(
        {"string", "integer", "decimal", "boolean", "enum", "datetime", "guid", "lookup"}
    ),
    "integer": frozenset({"string", "integer", "decimal", "boolean", "enum"}),
    "decimal": frozenset({"string", "integer", "decimal"}),
    "boolean": frozenset({"string", "boolean", "enum", "integer"}),
    "enum": frozenset({"string", "enum", "integer"}),
    "datetime": frozenset({"string", "datetime"}),
    "guid": frozenset({"string", "guid", "lookup"}),
    "lookup": frozenset({"string", "guid", "lookup"}),
}


class ConversionFailed(ValueError):
    """A value cannot become the destination field's type; the message says why."""


def can_convert(source: FieldType, destination: FieldType) -> bool:
    """Whether values of type ``source`` can ever convert to ``destination``."""
    return destination in _CONVERTIBLE.get(source, frozenset())


def convert_value(value: Any, field: FieldInfo) -> Any:
    """Convert one value to ``field``'s type; raises :class:`ConversionFailed` with a reason."""
    if value is None:
        return None
    converted = _CONVERTERS[field.type](value, field)
    if (
        field.max_length is not None
        and converted.__class__ is str
        and len(converted) > field.max_length
    ):
        raise ConversionFailed(
            f"{_show(value)} is {len(converted)} characters long; {field.name} holds at most "
            f"{field.max_length} (add a Truncate)"
        )
    if field.options is not None and converted.__class__ is int and converted not in field.options:
        raise ConversionFailed(
            f"{_show(value)} is not an option of {field.name} (its options are "
            f"{', '.join(map(str, field.options))})"
        )
    return converted


ColumnConverter = Callable[[list[Any], dict[int, str]], list[Any]]


def column_converter(field: FieldInfo) -> ColumnConverter:
    """A step converting a whole column to ``field``'s type, recording failures by index."""
    fast_types = _FAST_TYPES[field.type]
    allowed: frozenset[Any] | None = None
    if field.type == "enum" and field.enum_values:
        allowed = frozenset(field.enum_values)
    elif field.options is not None:
        allowed = frozenset(field.options)
    max_length = field.max_length

    def convert(values: list[Any], failed: dict[int, str]) -> list[Any]:
        if set(map(type, values)) <= fast_types and (
            allowed is None or set(values) - {None} <= allowed
        ):
            if max_length is None or field.type not in ("string", "enum"):
                return values
            if max(map(len, filter(None, values)), default=0) <= max_length:
                return values
        return _convert_slowly(values, failed, field)

    return convert


_MISSING = object()


def _convert_slowly(values: list[Any], failed: dict[int, str], field: FieldInfo) -> list[Any]:
    cache: dict[tuple[type, Any], Any] = {}
    out: list[Any] = []
    append = out.append
    for i, value in enumerate(values):
        if value is None:
            append(None)
            continue
        try:
            key = (value.__class__, value)
            result = cache.get(key, _MISSING)
        except TypeError:  # unhashable (a list or dict from a JSON source)
            key, result = None, _MISSING
        if result is _MISSING:
            try:
                result = convert_value(value, field)
            except ConversionFailed as exc:
                result = exc
            if key is not None:
                cache[key] = result
        if isinstance(result, ConversionFailed):
            failed.setdefault(i, str(result))
            append(None)
        else:
            append(result)
    return out


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(value: Any, what: str) -> ConversionFailed:
    return ConversionFailed(f"cannot convert {_show(value)} to {what}")


def _to_string(value: Any, field: FieldInfo) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise _fail(value, "text")


def _to_integer(value: Any, field: FieldInfo) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)  # numeric narrowing truncates, as Data Integrator does
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise _fail(value, "a whole number") from None
            if math.isfinite(number):
                return int(number)
    raise _fail(value, "a whole number")


def _to_decimal(value: Any, field: FieldInfo) -> float | int:
    if isinstance(value, bool):
        raise _fail(value, "a number")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            raise _fail(value, "a number") from None
        if math.isfinite(number):
            return number
    raise _fail(value, "a number")


def _to_boolean(value: Any, field: FieldInfo) -> bool:
    result = as_boolean(value)
    if result is None:
        raise _fail(value, "true/false")
    return result


def _to_enum(value: Any, field: FieldInfo) -> Any:
    members = field.enum_values
    if not members:
        return _to_string(value, field)
    if isinstance(value, bool):
        by_truth = {m.casefold(): m for m in members}
        name = ("yes" if value else "no") if "yes" in by_truth else str(value).casefold()
        if name in by_truth:
            return by_truth[name]
    elif isinstance(value, (str, int)):
        text = str(value).strip().casefold()
        for member in members:
            if member.casefold() == text:
                return member
    raise ConversionFailed(f"{_show(value)} is not one of {', '.join(members)}")


def _to_datetime(value: Any, field: FieldInfo) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _fail(value, "a date and time (ISO 8601)") from None
        return text
    raise _fail(value, "a date and time (ISO 8601)")


def _to_guid(value: Any, field: FieldInfo) -> str:
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            pass
    raise _fail(value, "a GUID")


def _to_lookup(value: Any, field: FieldInfo) -> Any:
    return value


_CONVERTERS: dict[str, Callable[[Any, FieldInfo], Any]] = {
    "string": _to_string,
    "integer": _to_integer,
    "decimal": _to_decimal,
    "boolean": _to_boolean,
    "enum": _to_enum,
    "datetime": _to_datetime,
    "guid": _to_guid,
    "lookup": _to_lookup,
}

#: Python types already right for each destination type (the fast path)
_FAST_TYPES: dict[str, frozenset[type]] = {
    "string": frozenset({str, _NONE}),
    "integer": frozenset({int, _NONE}),
    "decimal": frozenset({int, float, _NONE}),
    "boolean": frozenset({bool, _NONE}),
    "enum": frozenset({str, _NONE}),
    "datetime": frozenset({_NONE}),
    "guid": frozenset({_NONE}),
    "lookup": frozenset({str, int, _NONE}),
}
