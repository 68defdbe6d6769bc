"""Decide whether a value sent would change what the system already holds.

Used to skip unchanged writes: a record whose every field equals the stored row is reported
``unchanged`` and not sent. Equality is the system's, not Python's: an empty string and null are
the same (Dataverse stores ``""`` as null), numbers compare by value, date-times by instant,
GUIDs and enum names case-insensitively.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from integrator.connectors.base import FieldType

__all__ = ["bind_target_id", "same_value"]

_BIND_GUID = re.compile(
    r"\((?P<id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\)$"
)


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def same_value(type_: FieldType | None, stored: Any, sent: Any) -> bool:
    """Whether writing ``sent`` over ``stored`` (a field of ``type_``) would change nothing."""
    if _blank(stored) or _blank(sent):
        return _blank(stored) and _blank(sent)
    if isinstance(stored, bool) or isinstance(sent, bool):
        return bool(stored) == bool(sent) and type(stored) is type(sent)
    if isinstance(stored, int | float) and isinstance(sent, int | float):
        return float(stored) == float(sent)
    if type_ in ("guid", "lookup", "enum"):
        return str(stored).casefold() == str(sent).casefold()
    if type_ == "datetime":
        left, right = _instant(stored), _instant(sent)
        if left is not None and right is not None:
            if (left.tzinfo is None) != (right.tzinfo is None):
                return False
            return left == right
    if type_ in ("integer", "decimal") and isinstance(stored, int | float):
        try:
            return float(stored) == float(sent)
        except (TypeError, ValueError):
            return False
    return bool(stored == sent)


def bind_target_id(bind: Any) -> str | None:
    """The GUID in an ``@odata.bind`` value such as ``/accounts(<guid>)``, else ``None``."""
    if not isinstance(bind, str):
        return None
    match = _BIND_GUID.search(bind)
    return match.group("id").lower() if match else None
