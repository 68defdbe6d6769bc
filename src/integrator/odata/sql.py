"""Compile a ``$filter`` syntax tree to a SQLAlchemy boolean expression with bound parameters.

Values are always bound, never written into the SQL text. Null comparisons follow SQL
(``eq null`` is ``IS NULL``), which is also what :func:`integrator.odata.evaluate.evaluate`
does in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import and_, false, func, literal, not_, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean

from integrator.errors import IntegratorError
from integrator.odata.ast import And, Call, Compare, Expr, Field, Literal, Not, Operand, Or

__all__ = ["ColumnLookup", "UnknownFieldError", "to_sqlalchemy"]

ColumnLookup = Mapping[str, ColumnElement[Any]] | Callable[[str], ColumnElement[Any]]


class UnknownFieldError(IntegratorError, KeyError):
    """The filter names a field the target does not have."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f"unknown field {field!r} in $filter")

    def __str__(self) -> str:
        return f"unknown field {self.field!r} in $filter"


class _Contains(FunctionElement[bool]):
    """``haystack`` contains ``needle`` as a plain substring (no LIKE wildcards)."""

    type = Boolean()
    inherit_cache = True
    name = "odata_contains"


@compiles(_Contains)
def _contains_default(element: _Contains, compiler: SQLCompiler, **kw: Any) -> str:
    haystack, needle = list(element.clauses)
    return f"(strpos({compiler.process(haystack, **kw)}, {compiler.process(needle, **kw)}) > 0)"


@compiles(_Contains, "sqlite")
def _contains_sqlite(element: _Contains, compiler: SQLCompiler, **kw: Any) -> str:
    haystack, needle = list(element.clauses)
    return f"(instr({compiler.process(haystack, **kw)}, {compiler.process(needle, **kw)}) > 0)"


@compiles(_Contains, "mysql")
@compiles(_Contains, "mariadb")
def _contains_mysql(element: _Contains, compiler: SQLCompiler, **kw: Any) -> str:
    haystack, needle = list(element.clauses)
    return f"(instr({compiler.process(haystack, **kw)}, {compiler.process(needle, **kw)}) > 0)"


def to_sqlalchemy(
    expr: Expr, columns: ColumnLookup, *, case_insensitive: bool = False
) -> ColumnElement[bool]:
    """Compile ``expr`` to a SQLAlchemy condition over ``columns``.

    ``columns`` maps a field path to its column (a mapping, or a function raising ``KeyError``).
    Raises :class:`UnknownFieldError` for a field ``columns`` does not know.
    """
    return _Compiler(columns, case_insensitive).condition(expr)


class _Compiler:
    def __init__(self, columns: ColumnLookup, case_insensitive: bool) -> None:
        self.columns = columns
        self.case_insensitive = case_insensitive

    def column(self, path: str) -> ColumnElement[Any]:
        try:
            if callable(self.columns):
                return self.columns(path)
            return self.columns[path]
        except KeyError:
            raise UnknownFieldError(path) from None

    def condition(self, expr: Expr) -> ColumnElement[bool]:
        if isinstance(expr, And):
            return and_(*(self.condition(item) for item in expr.items))
        if isinstance(expr, Or):
            return or_(*(self.condition(item) for item in expr.items))
        if isinstance(expr, Not):
            return not_(self.condition(expr.item))
        if isinstance(expr, Compare):
            return self.compare(expr)
        return self.function(expr)

    def operand(self, operand: Operand, text: bool = False) -> ColumnElement[Any]:
        if isinstance(operand, Field):
            value = self.column(operand.path)
        elif isinstance(operand, Literal):
            value = literal(_bind_value(operand))
        else:
            inner = self.operand(operand.args[0], text=False)
            if operand.name == "tolower":
                value = func.lower(inner)
            elif operand.name == "toupper":
                value = func.upper(inner)
            else:
                value = func.trim(inner)
        if text and self.case_insensitive:
            return func.lower(value)
        return value

    def compare(self, expr: Compare) -> ColumnElement[bool]:
        left_null = isinstance(expr.left, Literal) and expr.left.kind == "null"
        right_null = isinstance(expr.right, Literal) and expr.right.kind == "null"
        if left_null or right_null:
            other = expr.left if right_null else expr.right
            if left_null and right_null:
                return true() if expr.op == "eq" else false()
            column = self.operand(other)
            if expr.op == "eq":
                return column.is_(None)
            if expr.op == "ne":
                return column.is_not(None)
            return literal(None, Boolean)
        textual = any(
            isinstance(o, Literal) and o.kind in ("string", "enum") for o in (expr.left, expr.right)
        )
        left = self.operand(expr.left, text=textual)
        right = self.operand(expr.right, text=textual)
        if expr.op == "eq":
            return left == right
        if expr.op == "ne":
            return left != right
        if expr.op == "gt":
            return left > right
        if expr.op == "ge":
            return left >= right
        if expr.op == "lt":
            return left < right
        return left <= right

    def function(self, call: Call) -> ColumnElement[bool]:
        haystack = self.operand(call.args[0], text=True)
        needle = self.operand(call.args[1], text=True)
        if call.name == "contains":
            return _Contains(haystack, needle)
        if call.name == "startswith":
            return func.substr(haystack, 1, func.length(needle)) == needle
        # endswith; the length guard keeps SQLite's negative-start substr() out of play
        return and_(
            func.length(haystack) >= func.length(needle),
            func.substr(haystack, func.length(haystack) - func.length(needle) + 1) == needle,
        )


def _bind_value(literal_: Literal) -> Any:
    if literal_.kind == "boolean":
        return bool(literal_.value)
    return literal_.value
