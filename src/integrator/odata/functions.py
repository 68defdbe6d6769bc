"""Dataverse query functions (``Microsoft.Dynamics.CRM.In`` ...) as plain comparisons.

Dataverse evaluates these on the server; everywhere else (the SQL connector, F&O, Python
evaluation, the sandbox) integrator rewrites each one into ``eq``/``ge``/``lt`` comparisons over
the same property, so that one code path handles collation, dates and blanks for all of them.
Behaviour follows Microsoft's Web API Query Function Reference
(https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/queryfunctions;
``In``: the value is one of the values; ``Between``: the value is between two values, both
included; ``On``/``OnOrAfter``/``OnOrBefore``: the date is on / on or after / on or before a
date; ``LastXDays``/``NextXDays``: the value is within the last / next X days, see
``powerapps-docs/developer/data-platform/fetchxml/reference/operators.md``).

Dates: Dataverse compares ``On`` and the ``X days`` functions in the calling user's time zone;
integrator compares them in UTC (a day is 00:00 to 24:00 UTC). ``LastXDays(X)`` selects from
00:00 UTC X days before today up to now; ``NextXDays(X)`` from now up to the end of the day X
days after today. A date-only upper bound of ``Between`` on a date-time includes that whole day.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from integrator.errors import FilterTypeError
from integrator.odata.ast import And, Compare, Expr, Field, Literal, Not, Or, QueryFunction

__all__ = ["FieldTypes", "expand_query_functions", "lower_query_function", "typed_values"]

#: the FieldType (``string``, ``integer``, ``datetime`` ...) of a field path, ``None`` if unknown
FieldTypes = Callable[[str], str | None]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE_FUNCTIONS = frozenset({"On", "OnOrAfter", "OnOrBefore", "LastXDays", "NextXDays"})

EDM_NAMES = {
    "string": "Edm.String",
    "integer": "Edm.Int32",
    "decimal": "Edm.Decimal",
    "boolean": "Edm.Boolean",
    "datetime": "Edm.DateTimeOffset",
    "guid": "Edm.Guid",
    "lookup": "Edm.Guid",
    "enum": "Edm.String",
}


def _qualified(fn: QueryFunction) -> str:
    return f"Microsoft.Dynamics.CRM.{fn.name}"


def _bad_value(fn: QueryFunction, value: object, field_type: str) -> FilterTypeError:
    return FilterTypeError(
        f"The value {value!r} given to {_qualified(fn)} is not a valid "
        f"{EDM_NAMES.get(field_type, field_type)} for the property '{fn.path}'."
    )


def _convert(fn: QueryFunction, item: Literal, field_type: str | None) -> Literal:
    value = item.value
    if field_type is None or item.kind == "null":
        return item
    if field_type in ("string", "enum"):
        if isinstance(value, bool):
            raise _bad_value(fn, value, field_type)
        return Literal(str(value), "string")
    if field_type == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return Literal(value, "integer")
        if isinstance(value, str) and re.fullmatch(r"[-+]?\d+", value.strip()):
            return Literal(int(value), "integer")
        raise _bad_value(fn, value, field_type)
    if field_type == "decimal":
        try:
            if isinstance(value, bool):
                raise ValueError
            return Literal(float(value), "decimal")
        except (TypeError, ValueError):
            raise _bad_value(fn, value, field_type) from None
    if field_type == "boolean":
        if isinstance(value, bool):
            return Literal(value, "boolean")
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return Literal(value.strip().lower() == "true", "boolean")
        raise _bad_value(fn, value, field_type)
    if field_type in ("guid", "lookup"):
        if isinstance(value, str) and _GUID.match(value.strip()):
            return Literal(value.strip().lower(), "guid")
        raise _bad_value(fn, value, field_type)
    if field_type == "datetime":
        moment = _moment(value)
        if moment is None:
            raise _bad_value(fn, value, field_type)
        return Literal(_iso(moment), "datetime")
    return item


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _is_date_only(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()) is not None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _midnight(day: date) -> Literal:
    return Literal(f"{day.isoformat()}T00:00:00.000Z", "datetime")


def typed_values(fn: QueryFunction, field_type: str | None) -> tuple[Literal, ...]:
    """``fn``'s values as literals of the property's type; :class:`FilterTypeError` if one is
    not a value of that type, or a date function names a property that holds no dates."""
    if fn.name in _DATE_FUNCTIONS:
        if field_type is not None and field_type != "datetime":
            raise FilterTypeError(
                f"{_qualified(fn)} compares dates, but the property '{fn.path}' is of type "
                f"{EDM_NAMES.get(field_type, field_type)}."
            )
        (item,) = fn.values
        if fn.name in ("LastXDays", "NextXDays"):
            count = _convert(fn, item, "integer")
            if count.value < 0:
                raise _bad_value(fn, item.value, "integer")
            return (count,)
        if item.kind not in ("string", "date", "datetime") or _moment(item.value) is None:
            raise _bad_value(fn, item.value, "datetime")
        return (item,)
    return tuple(_convert(fn, item, field_type) for item in fn.values)


def lower_query_function(
    fn: QueryFunction, field_type: str | None, *, now: datetime | None = None
) -> Expr:
    """``fn`` as comparisons over its property (see the module docstring for the dates)."""
    values = typed_values(fn, field_type)
    prop = Field(fn.path)
    if fn.name in ("In", "NotIn"):
        matches: list[Expr] = [Compare("eq", prop, value) for value in values]
        found: Expr = matches[0] if len(matches) == 1 else Or(tuple(matches))
        return found if fn.name == "In" else Not(found)
    if fn.name in ("Between", "NotBetween"):
        low, high = values
        upper: Expr = Compare("le", prop, high)
        if field_type == "datetime" and _is_date_only(fn.values[1].value):
            moment = _moment(fn.values[1].value)
            assert moment is not None
            upper = Compare("lt", prop, _midnight(moment.date() + timedelta(days=1)))
        inside: Expr = And((Compare("ge", prop, low), upper))
        return inside if fn.name == "Between" else Not(inside)
    current = (now or datetime.now(UTC)).astimezone(UTC)
    if fn.name in ("LastXDays", "NextXDays"):
        days = int(values[0].value)
        now_literal = Literal(_iso(current), "datetime")
        if fn.name == "LastXDays":
            start = _midnight(current.date() - timedelta(days=days))
            return And((Compare("ge", prop, start), Compare("le", prop, now_literal)))
        end = _midnight(current.date() + timedelta(days=days + 1))
        return And((Compare("ge", prop, now_literal), Compare("lt", prop, end)))
    moment = _moment(values[0].value)
    assert moment is not None
    day = moment.date()
    start, next_day = _midnight(day), _midnight(day + timedelta(days=1))
    if fn.name == "On":
        return And((Compare("ge", prop, start), Compare("lt", prop, next_day)))
    if fn.name == "OnOrAfter":
        return Compare("ge", prop, start)
    return Compare("lt", prop, next_day)


def expand_query_functions(
    expr: Expr, field_types: FieldTypes, *, now: datetime | None = None
) -> Expr:
    """``expr`` with every query function replaced by :func:`lower_query_function`'s form."""
    if isinstance(expr, And):
        return And(tuple(expand_query_functions(e, field_types, now=now) for e in expr.items))
    if isinstance(expr, Or):
        return Or(tuple(expand_query_functions(e, field_types, now=now) for e in expr.items))
    if isinstance(expr, Not):
        return Not(expand_query_functions(expr.item, field_types, now=now))
    if isinstance(expr, QueryFunction):
        return lower_query_function(expr, field_types(expr.path), now=now)
    return expr
