"""The syntax tree of an OData ``$filter`` expression."""

from __future__ import annotations

from dataclasses import dataclass
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
]

CompareOp = TypingLiteral["eq", "ne", "gt", "ge", "lt", "le"]
LiteralKind = TypingLiteral[
    "string", "integer", "decimal", "boolean", "null", "datetime", "date", "guid", "enum"
]


@dataclass(frozen=True)
class Literal:
    """A constant. ``enum_type`` is set for qualified enum literals (``NoYes'Yes'``)."""

    value: Any
    kind: LiteralKind
    enum_type: str | None = None


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


#: A boolean expression. A ``Call`` here is one of the boolean functions (``contains`` ...).
Expr = Compare | And | Or | Not | Call
