"""What a person can do about a failed P2C record: a fix, spelled out, for the usual causes
(the seed's missing decision-making role, countries, required fields, lengths, references)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["ErrorGroup", "FailedRecord", "group_errors", "hint_for"]


class FailedRecord(Protocol):
    """A failed record as the history keeps it (``integrator.engine.history.RecordError``)."""

    @property
    def task(self) -> str: ...
    @property
    def leg(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def field(self) -> str | None: ...
    @property
    def message(self) -> str: ...


_QUOTED = re.compile(r"'((?:[^']|'')*)'")


def _value(message: str) -> str | None:
    match = _QUOTED.search(message)
    return match.group(1).replace("''", "'") if match else None


def hint_for(error: FailedRecord, project_file: str | None = None) -> str | None:
    """A fix for ``error`` in words, or ``None`` when there is no usual one."""
    field, message = error.field or "", error.message
    where = f" in {project_file}" if project_file else " in the project file"
    value = _value(message)
    if field == "DecisionMakingRoleCode" and "does not exist" in message:
        return (
            f"Add the decision-making role {value!r} in F&O (entity DecisionMakingRoles), or "
            f"remove the mapping row 'DecisionMakingRoleCode ← PrimaryAccountRole'{where} "
            '("PrimaryAccountRole = DecisionMakingRole": the value must exist in F&O).'
        )
    if "is not a country" in message or ("CountryRegionCode" in message and "not" in message):
        return (
            f"Correct the country {value!r} in Sales, or add a ValueMap for it before "
            f"CountryRegionCode on the row for {field}{where}."
        )
    if "PrimaryAccount" in field and "does not exist" in message:
        return (
            f"The contact's company {value!r} is not in CDS: fix that account's own error "
            "(see the Accounts project's failed records), run Accounts, then run this again."
        )
    if "is required" in message or "needs" in message:
        return (
            f"Fill in {field or 'the field'} in Sales, or give the mapping row for it a "
            f"Default{where}."
        )
    if "is the same key as" in message:
        why = (
            ": the destination takes keys that differ only in case or trailing spaces as one"
            if "ignores case" in message
            else ""
        )
        return (
            f"Give one of the records another {field or 'key'} in Sales, or remove the "
            f"duplicate{why}. The record read second is sent again when it changes."
        )
    if "longer than" in message:
        return f"Add a Truncate to the mapping row for {field}{where}, or shorten it in Sales."
    if "does not exist" in message and field:
        return (
            f"Create {value!r} in the destination system, or map {field} through a ValueMap "
            f"or Default to a value that exists{where}."
        )
    return None


@dataclass(frozen=True)
class ErrorGroup:
    """Failed records that share a cause: one fix serves them all."""

    task: str
    leg: str
    field: str | None
    message: str
    keys: tuple[str, ...]
    hint: str | None


def group_errors(
    errors: Sequence[FailedRecord], project_file: str | None = None
) -> list[ErrorGroup]:
    """Group ``errors`` by task, leg, field and message, largest group first."""
    groups: dict[tuple[str, str, str | None, str], list[FailedRecord]] = {}
    for error in errors:
        groups.setdefault((error.task, error.leg, error.field, error.message), []).append(error)
    result = [
        ErrorGroup(
            task=task,
            leg=leg,
            field=field,
            message=message,
            keys=tuple(e.key for e in members),
            hint=hint_for(members[0], project_file),
        )
        for (task, leg, field, message), members in groups.items()
    ]
    result.sort(key=lambda g: -len(g.keys))
    return result
