"""Values crossing the wire: checking a payload's values against their properties' types on the
way in, and turning SQLite rows into OData JSON records on the way out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from integrator.sandbox.http.errors import INVALID_VALUE, TOO_LONG, ODataError
from integrator.sandbox.http.model import Property, ServedSet

__all__ = ["RowReader", "to_column_value", "utc_text"]


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


class RowReader:
    """Turns rows of ``columns`` (SQLite names) into OData records for a set's properties.

    Built once per query: the per-row work is one ``zip`` plus the few conversions the types
    need (booleans, lower-case company ids, lookups' annotations, ``@odata.etag``).
    """

    def __init__(
        self,
        served: ServedSet,
        props: Sequence[Property],
        *,
        lookup_annotations: bool,
        etag: bool,
    ) -> None:
        self.names = [p.name for p in props]
        self._fixes: list[Callable[[dict[str, Any]], None]] = []
        for prop in props:
            if prop.type == "boolean":
                self._fixes.append(_bool_fix(prop.name))
            if prop.name == served.company_field:
                self._fixes.append(_lower_fix(prop.name))
        self._lookups = [p for p in props if p.lookup is not None] if lookup_annotations else []
        self._etag = etag and "versionnumber" in self.names
        self._fixed_logical: dict[str, str] = {}
        for prop in self._lookups:
            assert prop.lookup is not None
            if prop.lookup.type_column is None and len(prop.lookup.targets) == 1:
                self._fixed_logical[prop.name] = prop.lookup.targets[0]

    def extra_columns(self) -> list[str]:
        """SQL columns the reader needs beyond the properties (lookups' type columns)."""
        return [
            p.lookup.type_column
            for p in self._lookups
            if p.lookup is not None and p.lookup.type_column is not None
        ]

    def records(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """Records for ``rows`` whose first columns are the properties, then extra columns."""
        names = self.names
        width = len(names)
        out = [dict(zip(names, row, strict=False)) for row in rows]
        for fix in self._fixes:
            for record in out:
                fix(record)
        if self._lookups:
            extra = {c: width + i for i, c in enumerate(self.extra_columns())}
            for row, record in zip(rows, out, strict=True):
                for prop in self._lookups:
                    if record.get(prop.name) is None:
                        continue
                    assert prop.lookup is not None
                    if prop.lookup.type_column is not None:
                        logical = row[extra[prop.lookup.type_column]]
                    else:
                        logical = self._fixed_logical.get(prop.name)
                    record[f"{prop.name}@Microsoft.Dynamics.CRM.lookuplogicalname"] = logical
                    nav = prop.lookup.navigation.get(logical) if logical else None
                    if nav:
                        record[
                            f"{prop.name}@Microsoft.Dynamics.CRM.associatednavigationproperty"
                        ] = nav
        if self._etag:
            for record in out:
                record["@odata.etag"] = f'W/"{record["versionnumber"]}"'
        return out


def _bool_fix(name: str) -> Callable[[dict[str, Any]], None]:
    def fix(record: dict[str, Any]) -> None:
        value = record[name]
        if value is not None:
            record[name] = bool(value)

    return fix


def _lower_fix(name: str) -> Callable[[dict[str, Any]], None]:
    def fix(record: dict[str, Any]) -> None:
        value = record[name]
        if isinstance(value, str):
            record[name] = value.lower()

    return fix
