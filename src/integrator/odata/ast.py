"""The syntax tree of an OData ``$filter`` expression."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from typing import Literal as TypingLiteral

__all__ = [
    "And",
    "Call",
    "Compare",
    "CompareOp",
    "Expr",
    "Field",
    "Literal",
    "LiteralKind",
    "Not",
    "Operand",
    "Or",
    "QueryFunction",
]

CompareOp = TypingLiteral["eq", "ne", "gt", "ge", "lt", "le"]
LiteralKind = TypingLiteral[
    "string", "integer", "decimal", "boolean", "null", "datetime", "date", "guid", "enum"
]


@dataclass(frozen=True)
class Literal:
    """A constant. ``enum_type`` is set for qualified enum literals (``NoYes'Yes'``).

    ``implicit`` marks the ``true`` the parser supplies for a bare property used as a condition
    (``msdynce_isactivecustomer`` means ``... eq true``); it does not take part in equality.
    """

    value: Any
    kind: LiteralKind
    enum_type: str | None = None
    implicit: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Field:
    """A property, or a navigation path written with ``/`` (``parentcustomerid_account/name``)."""

    path: str


@dataclass(frozen=True)
class Call:
    """A function call: ``contains``, ``startswith``, ``endswith``, ``tolower``, ``toupper``."""

    name: str
    args: tuple[Operand, ...]


Operand = Field | Literal | Call


@dataclass(frozen=True)
class Compare:
    """``left op right``."""

    op: CompareOp
    left: Operand
    right: Operand


@dataclass(frozen=True)
class And:
    """All of ``items``."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    """Any of ``items``."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    """The negation of ``item``."""

    item: Expr


@dataclass(frozen=True)
class QueryFunction:
    """A Dataverse query function: ``Microsoft.Dynamics.CRM.In(PropertyName='x',...)``.

    ``name`` is the short name (``In``, ``Between``, ``On``, ``LastXDays`` ...), ``path`` the
    ``PropertyName`` and ``values`` the ``PropertyValue`` (one) or ``PropertyValues`` (several),
    as written. Microsoft documents them in the Web API Query Function Reference
    (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/queryfunctions).
    """

    name: str
    path: str
    values: tuple[Literal, ...]


#: A boolean expression. A ``Call`` here is one of the boolean functions (``contains`` ...);
#: a ``Literal`` here is ``true`` or ``false``.
Expr = Compare | And | Or | Not | Call | QueryFunction | Literal
