"""Values as every connector reads them: whether a write would change what a system holds, and
the words that mean true and false.

Equality is the system's, not Python's: numbers compare by value (exactly, as decimals), date-
times by instant, GUIDs, lookups and enum names without regard to case. Blanks compare the way
the destination stores them: Dataverse stores ``""`` as null and F&O stores null as ``""``, so
to them the two are one value; a SQL database keeps ``''`` and NULL apart, and so does the
comparison (``blank_is_null=False``). Getting this wrong in one direction re-sends unchanged
records on every run; in the other it skips a write a user made (NULL → ``''`` in SQL).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from integrator.connectors.base import FieldType

__all__ = ["FALSE_WORDS", "TRUE_WORDS", "as_boolean", "same_value"]

#: text that means true or false (compared after ``strip().casefold()``)
TRUE_WORDS = frozenset({"true", "yes", "y", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "off", "0"})

_CASE_INSENSITIVE: frozenset[str] = frozenset({"guid", "lookup", "enum"})
_NUMBER = (int, float, Decimal)
_NATIVE = (int, float)
_MOMENTS = (date, time)


def as_boolean(value: Any) -> bool | None:
    """``value`` as true or false: a bool, 0 or 1, or one of :data:`TRUE_WORDS` /
    :data:`FALSE_WORDS` in any case; ``None`` when it is none of these."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
    return None


def same_value(type_: FieldType | None, stored: Any, sent: Any, *, blank_is_null: bool) -> bool:
    """Whether writing ``sent`` over ``stored`` (a field of ``type_``) would change nothing.

    ``blank_is_null``: the destination stores ``""`` and null as one value (Dataverse, F&O).
    """
    if type(stored) is type(sent) and stored == sent:
        return True  # the common case (an unchanged record), whatever the type
    if blank_is_null:
        stored = None if stored == "" else stored
        sent = None if sent == "" else sent
    if stored is None or sent is None:
        return stored is None and sent is None
    if isinstance(stored, bool) or isinstance(sent, bool):
        return type(stored) is type(sent) and stored == sent
    if isinstance(stored, _NUMBER) and isinstance(sent, _NUMBER):
        return _same_number(stored, sent)
    if type_ in _CASE_INSENSITIVE:
        return str(stored).casefold() == str(sent).casefold()
    if type_ == "datetime" or isinstance(stored, _MOMENTS):
        return _same_instant(stored, sent)
    if type_ in ("integer", "decimal"):
        return _same_number(stored, sent)  # text holding a number (SQLite, a source's "10")
    return bool(stored == sent)


def _same_number(stored: Any, sent: Any) -> bool:
    if type(stored) in _NATIVE and type(sent) in _NATIVE:
        return bool(stored == sent)  # int and float compare exactly
    try:
        return Decimal(str(stored).strip()) == Decimal(str(sent).strip())
    except InvalidOperation:
        return bool(stored == sent)


def _same_instant(stored: Any, sent: Any) -> bool:
    left, right = _moment(stored), _moment(sent)
    if left is None or right is None:
        return bool(stored == sent)
    if (
        isinstance(left, datetime)
        and isinstance(right, datetime)
        and (left.tzinfo is None) != (right.tzinfo is None)
    ):
        return False  # a local time and an instant are not comparable: write
    return bool(left == right)


def _moment(value: Any) -> datetime | date | time | None:
    if isinstance(value, _MOMENTS):
        return value  # a datetime is a date too
    if not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    for parse in (datetime.fromisoformat, date.fromisoformat, time.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    return None
