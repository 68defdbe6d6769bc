"""From a store's refusal to the field at fault and a message naming the value.

The triggers of :mod:`.rules` can only raise fixed texts; :func:`explain_violation` finds the rule
behind a text and fills its message from the offending record. SQLite's own constraint errors
(duplicate key, missing value, wrong type) are explained too.
"""

from __future__ import annotations

import re
import sqlite3
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from integrator.sandbox.schema import Service
from integrator.sandbox.stores.rules import Rule, rules_for
from integrator.sandbox.stores.services import SERVICES

__all__ = ["Violation", "explain_violation"]


@dataclass(frozen=True)
class Violation:
    """Why the store refused a record: the field at fault and a message naming the value.

    ``status`` is the HTTP status the refusal deserves (400; 412 for a duplicate key).
    """

    field: str | None
    message: str
    status: int = 400


@cache
def _rules_by_text(service: str, entity_set: str) -> dict[str, Rule]:
    return {r.text: r for r in rules_for(SERVICES[service], entity_set)}


class _RecordFormatter(string.Formatter):
    def __init__(self, record: Mapping[str, Any], field: str, company: str | None) -> None:
        self.record = record
        self.extra = {
            "value": record.get(field),
            "company": str(record.get(company) or "").upper() if company else "",
        }

    def get_value(self, key: int | str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        for name in str(key).split("|"):
            value = self.extra[name] if name in self.extra else self.record.get(name)
            if value is not None and value != "":
                return value
        return ""


_SQLITE_ERRORS = (
    (re.compile(r"UNIQUE constraint failed: (.+)"), "unique"),
    (re.compile(r"NOT NULL constraint failed: \S+\.(\S+)"), "required"),
    (re.compile(r"cannot store (\w+) value in (\w+) column \S+\.(\S+)"), "type"),
)


def explain_violation(
    service: Service | str,
    entity_set: str,
    record: Mapping[str, Any],
    error: sqlite3.Error | str,
) -> Violation | None:
    """Turn a store's refusal of ``record`` into the field at fault and an OData-ready message.

    ``record`` is the row as it was to be stored (for an update: the existing row merged with
    the change), keyed by column name. ``error`` is the ``sqlite3`` error (or its text) raised by
    the write. Returns ``None`` when the error is not a rule or constraint of the store.
    Example: ``CustomerGroupId '99' does not exist in company USMF``.
    """
    svc = SERVICES[service] if isinstance(service, str) else service
    es = svc.entity_set(entity_set)
    text = str(error)
    if es is None:
        return None
    if svc is SERVICES.get(svc.name):
        rule = _rules_by_text(svc.name, entity_set).get(text)
    else:
        rule = next((r for r in rules_for(svc, entity_set) if r.text == text), None)
    if rule is not None:
        message = _RecordFormatter(record, rule.field, es.company_field).format(rule.message)
        return Violation(rule.field, message)
    for pattern, kind in _SQLITE_ERRORS:
        m = pattern.match(text)
        if not m:
            continue
        if kind == "unique":
            cols = [c.split(".", 1)[-1] for c in m.group(1).split(", ")]
            values = ", ".join(f"{c} '{record.get(c, '')}'" for c in cols)
            return Violation(cols[-1], f"A record with {values} already exists", 412)
        if kind == "required":
            return Violation(m.group(1), f"{m.group(1)} is required")
        field = m.group(3)
        return Violation(
            field, f"{field} '{record.get(field, '')}' is not a valid {m.group(2).lower()}"
        )
    return None
