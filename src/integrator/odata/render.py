"""Write a ``$filter`` syntax tree back as OData text, for Dataverse or for F&O.

String values are quoted with embedded quotes doubled (``'O''Brien'``); URL encoding (``&``,
``#``) is left to the HTTP client's query-parameter encoding. F&O differs from Dataverse in three
ways this module handles: enum values are written as qualified literals
(``Microsoft.Dynamics.DataEntities.NoYes'Yes'``), substring matches are written with
wildcards (``Name eq '*smith*'``) because F&O has no ``contains``, and Dataverse's query
functions (``Microsoft.Dynamics.CRM.In`` ...) are written as the comparisons they stand for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal as TypingLiteral

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
from integrator.odata.functions import lower_query_function
from integrator.odata.parser import QUERY_FUNCTION_NAMESPACE, QUERY_FUNCTIONS

__all__ = ["FINOPS_ENUM_NAMESPACE", "referenced_fields", "to_odata"]

FINOPS_ENUM_NAMESPACE = "Microsoft.Dynamics.DataEntities"

Dialect = TypingLiteral["dataverse", "finops"]


def to_odata(
    expr: Expr,
    *,
    dialect: Dialect = "dataverse",
    enum_types: Mapping[str, str] | None = None,
) -> str:
    """Render ``expr`` as ``$filter`` text.

    ``enum_types`` maps a field to its enum type name (``IsExternallyMaintained`` -> ``NoYes``);
    on F&O a string compared with such a field is written as a qualified enum literal.
    """
    return _Renderer(dialect, enum_types or {}).condition(expr, top=True)


class _Renderer:
    def __init__(self, dialect: Dialect, enum_types: Mapping[str, str]) -> None:
        self.dialect = dialect
        self.enum_types = enum_types

    def condition(self, expr: Expr, top: bool = False) -> str:
        if isinstance(expr, And):
            text = " and ".join(self.condition(item) for item in expr.items)
            return text if top else f"({text})"
        if isinstance(expr, Or):
            text = " or ".join(self.condition(item) for item in expr.items)
            return text if top else f"({text})"
        if isinstance(expr, Not):
            return f"not ({self.condition(expr.item, top=True)})"
        if isinstance(expr, Compare):
            enum_type = self._enum_type_of(expr.left) or self._enum_type_of(expr.right)
            left = self.operand(expr.left, enum_type)
            right = self.operand(expr.right, enum_type)
            return f"{left} {expr.op} {right}"
        if isinstance(expr, Literal):
            return "true" if expr.value else "false"
        if isinstance(expr, QueryFunction):
            if self.dialect == "finops":
                return self.condition(lower_query_function(expr, None), top=top)
            return _query_function(expr)
        return self.function(expr)

    def _enum_type_of(self, operand: Operand) -> str | None:
        if isinstance(operand, Field):
            return self.enum_types.get(operand.path)
        return None

    def operand(self, operand: Operand, enum_type: str | None = None) -> str:
        if isinstance(operand, Field):
            return operand.path
        if isinstance(operand, Call):
            return f"{operand.name}({', '.join(self.operand(a) for a in operand.args)})"
        return self.literal(operand, enum_type)

    def literal(self, value: Literal, enum_type: str | None) -> str:
        if value.kind == "null":
            return "null"
        if value.kind == "boolean":
            return "true" if value.value else "false"
        if value.kind in ("integer", "decimal"):
            return repr(value.value)
        if value.kind in ("datetime", "date", "guid"):
            return str(value.value)
        quoted = _quote(str(value.value))
        type_name = value.enum_type or enum_type
        if self.dialect == "finops" and type_name:
            if "." not in type_name:
                type_name = f"{FINOPS_ENUM_NAMESPACE}.{type_name}"
            return f"{type_name}{quoted}"
        if value.kind == "enum" and self.dialect == "dataverse" and value.enum_type:
            return f"{value.enum_type}{quoted}"
        return quoted

    def function(self, call: Call) -> str:
        if self.dialect == "finops" and isinstance(call.args[1], Literal):
            pattern = str(call.args[1].value)
            if call.name == "contains":
                pattern = f"*{pattern}*"
            elif call.name == "startswith":
                pattern = f"{pattern}*"
            else:
                pattern = f"*{pattern}"
            return f"{self.operand(call.args[0])} eq {_quote(pattern)}"
        return f"{call.name}({self.operand(call.args[0])}, {self.operand(call.args[1])})"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _query_function(fn: QueryFunction) -> str:
    """Dataverse's own syntax: lists as JSON strings (which lets values hold ``'``), as in the
    examples of ``powerapps-docs/developer/data-platform/webapi/query/filter-rows.md``."""
    parameter = QUERY_FUNCTIONS[fn.name]
    if parameter == "PropertyValues":
        values = ",".join(json.dumps(str(v.value), ensure_ascii=False) for v in fn.values)
        argument = f"[{values}]"
    elif fn.values[0].kind == "integer":
        argument = str(fn.values[0].value)
    else:
        argument = _quote(str(fn.values[0].value))
    name = f"{QUERY_FUNCTION_NAMESPACE}.{fn.name}"
    return f"{name}(PropertyName={_quote(fn.path)},{parameter}={argument})"


def referenced_fields(expr: Expr) -> set[str]:
    """The field paths ``expr`` reads."""
    found: set[str] = set()

    def visit_operand(operand: Operand) -> None:
        if isinstance(operand, Field):
            found.add(operand.path)
        elif isinstance(operand, Call):
            for arg in operand.args:
                visit_operand(arg)

    def visit(node: Expr) -> None:
        if isinstance(node, (And, Or)):
            for item in node.items:
                visit(item)
        elif isinstance(node, Not):
            visit(node.item)
        elif isinstance(node, Compare):
            visit_operand(node.left)
            visit_operand(node.right)
        elif isinstance(node, QueryFunction):
            found.add(node.path)
        elif isinstance(node, Call):
            visit_operand(node)

    visit(expr)
    return found
