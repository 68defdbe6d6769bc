"""Check a ``$filter``'s operands against the entity's property types, as OData services do.

Dataverse (like every service built on Microsoft's OData library) refuses a comparison whose
operands cannot be compared (``lastname eq 1``, ``msdynce_isactivecustomer eq 1``,
``accountrolecode eq '1'``) with 400 and, e.g., ``A binary operator with incompatible types was
detected. Found operand types 'Edm.Boolean' and 'Edm.Int32' for operator kind 'Equal'.`` (code
``0x80060888``; seen from a real organization in microsoft/Power-CAT-Copilot-Studio-Kit#584), and
a filter that is not a boolean expression (a bare ``lastname``) with ``The $filter expression
must evaluate to a single boolean value.``. The same checks serve the sandbox (which answers
400 with these messages) and the validation of a project's ``source_filter``.

Numbers of any kind compare with each other; a date compares with a date-time; an F&O enum
compares with its string form; ``null`` compares with anything.
"""

from __future__ import annotations

from integrator.errors import FilterTypeError
from integrator.odata.ast import (
    And,
    Call,
    Compare,
    Expr,
    Field,
    Literal,
    Not,
    Operand,
    Or,
    QueryFunction,
)
from integrator.odata.functions import EDM_NAMES, FieldTypes, typed_values

__all__ = ["NOT_BOOLEAN", "check_types", "operand_type"]

NOT_BOOLEAN = "The $filter expression must evaluate to a single boolean value."

_OPERATOR_KINDS = {
    "eq": "Equal",
    "ne": "NotEqual",
    "gt": "GreaterThan",
    "ge": "GreaterThanOrEqual",
    "lt": "LessThan",
    "le": "LessThanOrEqual",
}
_LITERAL_TYPES = {
    "string": "Edm.String",
    "decimal": "Edm.Decimal",
    "boolean": "Edm.Boolean",
    "datetime": "Edm.DateTimeOffset",
    "date": "Edm.Date",
    "guid": "Edm.Guid",
}
_NUMBERS = frozenset({"Edm.Int32", "Edm.Int64", "Edm.Decimal", "Edm.Double"})
_MOMENTS = frozenset({"Edm.DateTimeOffset", "Edm.Date"})
#: an F&O enum property; compares with enum literals and with its members' names as strings
_ENUM = "Enum"


def operand_type(operand: Operand, field_types: FieldTypes) -> str | None:
    """The Edm type name of ``operand`` (``None`` for ``null`` or a field of unknown type)."""
    if isinstance(operand, Field):
        kind = field_types(operand.path)
        if kind is None:
            return None
        return _ENUM if kind == "enum" else EDM_NAMES.get(kind, kind)
    if isinstance(operand, Call):
        return "Edm.String"
    if operand.kind == "null":
        return None
    if operand.kind == "enum":
        return _ENUM
    if operand.kind == "integer":
        return "Edm.Int32" if -(2**31) <= operand.value < 2**31 else "Edm.Int64"
    return _LITERAL_TYPES.get(operand.kind)


def _compatible(left: str, right: str) -> bool:
    if left == right:
        return True
    pair = {left, right}
    return pair <= _NUMBERS or pair <= _MOMENTS or pair == {_ENUM, "Edm.String"}


def _shown(edm: str) -> str:
    return "Edm.Enum" if edm == _ENUM else edm


def _check_call(call: Call, field_types: FieldTypes) -> None:
    for arg in call.args:
        if isinstance(arg, Call):
            _check_call(arg, field_types)
        kind = operand_type(arg, field_types)
        if kind is not None and kind not in ("Edm.String", _ENUM):
            signature = ", ".join(["Edm.String Nullable=true"] * len(call.args))
            raise FilterTypeError(
                f"No function signature for the function with name '{call.name}' matches the "
                f"specified arguments. The function signatures considered are: "
                f"{call.name}({signature})."
            )


def _field_as_boolean(operand: Operand, kind: str | None, other: Operand) -> bool:
    """A number field compared with ``true``/``false``."""
    return (
        isinstance(operand, Field)
        and kind in _NUMBERS
        and isinstance(other, Literal)
        and other.kind == "boolean"
    )


def _check_compare(expr: Compare, field_types: FieldTypes, numbers_as_booleans: bool) -> None:
    for side in (expr.left, expr.right):
        if isinstance(side, Call):
            _check_call(side, field_types)
    if isinstance(expr.right, Literal) and expr.right.implicit:
        kind = operand_type(expr.left, field_types)
        if kind not in (None, "Edm.Boolean") and not (numbers_as_booleans and kind in _NUMBERS):
            raise FilterTypeError(NOT_BOOLEAN)
        return
    left = operand_type(expr.left, field_types)
    right = operand_type(expr.right, field_types)
    if left is None or right is None or _compatible(left, right):
        return
    if numbers_as_booleans and (
        _field_as_boolean(expr.left, left, expr.right)
        or _field_as_boolean(expr.right, right, expr.left)
    ):
        return
    raise FilterTypeError(
        "A binary operator with incompatible types was detected. Found operand types "
        f"'{_shown(left)}' and '{_shown(right)}' for operator kind '{_OPERATOR_KINDS[expr.op]}'."
    )


def check_types(
    expr: Expr, field_types: FieldTypes, *, number_fields_as_booleans: bool = False
) -> None:
    """Raise :class:`FilterTypeError` where ``expr`` compares values that do not fit.

    ``field_types`` gives a field path's FieldType (``string``, ``integer``, ``boolean`` ...) or
    ``None`` when unknown; unknown fields are not this check's business (callers name them).
    ``number_fields_as_booleans`` lets a number field stand for a boolean (``active eq true``,
    a bare ``active``), as SQL databases keep booleans as 0 and 1; OData services never allow
    it (a boolean field compared with a number stays refused either way).
    """
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, And | Or):
            stack.extend(node.items)
        elif isinstance(node, Not):
            stack.append(node.item)
        elif isinstance(node, Compare):
            _check_compare(node, field_types, number_fields_as_booleans)
        elif isinstance(node, QueryFunction):
            typed_values(node, field_types(node.path))
        elif isinstance(node, Call):
            _check_call(node, field_types)
        elif node.kind != "boolean":
            raise FilterTypeError(NOT_BOOLEAN)
