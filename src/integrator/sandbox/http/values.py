"""Values crossing the wire: checking a payload's values against their properties' types on the
way in (rows become records in ``records.py``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from integrator.sandbox.http.errors import INVALID_VALUE, TOO_LONG, ODataError
from integrator.sandbox.http.model import Property

__all__ = ["to_column_value", "utc_text"]


def _bad(prop: Property, value: Any, expected: str) -> ODataError:
    shown = repr(value) if not isinstance(value, str) else f"'{value}'"
    return ODataError(
        400,
        INVALID_VALUE,
        f"Invalid value {shown} for field '{prop.name}': expected {expected}",
    )


def utc_text(value: str) -> str:
    """An ISO 8601 date or date-time as the stores keep it: UTC, milliseconds, ``Z``
    (``2024-01-02T03:04:05.000Z``), so that text order is time order. ``ValueError`` if bad."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _datetime(prop: Property, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(prop, value, "an ISO 8601 date and time string")
    try:
        return utc_text(value)
    except ValueError:
        raise _bad(prop, value, "an ISO 8601 date and time string") from None


def to_column_value(prop: Property, value: Any) -> Any:
    """The SQLite value for ``value`` written to ``prop``; raises a 400 :class:`ODataError`
    naming the field and the value when the type is wrong or a string is too long."""
    if value is None:
        return None
    kind = prop.type
    if kind == "string":
        if not isinstance(value, str):
            raise _bad(prop, value, "a string")
        limit = prop.max_length
        if limit is not None and len(value) > limit:
            raise ODataError(
                400,
                TOO_LONG,
                f"Value for field '{prop.name}' is {len(value)} characters long; "
                f"the maximum is {limit}",
            )
        return value
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(prop, value, "an integer")
        return value
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(prop, value, "a number")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _bad(prop, value, "true or false")
        return int(value)
    if kind == "datetime":
        return _datetime(prop, value)
    if kind in ("guid", "lookup"):
        if not isinstance(value, str):
            raise _bad(prop, value, "a GUID")
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise _bad(prop, value, "a GUID") from None
    if kind == "enum":
        members = prop.definition.enum_values if prop.definition else None
        if not isinstance(value, str):
            raise _bad(prop, value, "one of " + ", ".join(members or ()))
        if members:
            for member in members:
                if member.lower() == value.lower():
                    return member
            raise _bad(prop, value, "one of " + ", ".join(members))
        return value
    return value
