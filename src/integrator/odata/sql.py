"""Compile a ``$filter`` syntax tree to a SQLAlchemy boolean expression with bound parameters.

Values are always bound, never written into the SQL text. Null comparisons follow SQL
(``eq null`` is ``IS NULL``; ``ne 'x'`` does not select a null), which is also what
:func:`integrator.odata.evaluate.evaluate` does in Python. Dataverse query functions are
rewritten into comparisons first (:mod:`integrator.odata.functions`).

Case-insensitive strings: by default both sides of a string comparison go through ``lower()``.
A database that has a case-insensitive collation (the sandbox registers one) passes
``collation`` instead, so that comparisons keep using the columns' indexes, and names the SQL
functions that fold case (``fold``) and implement ``tolower``/``toupper``.
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
from integrator.odata.functions import FieldTypes, lower_query_function

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


class _Group(FunctionElement[bool]):
    """One condition in parentheses that SQLAlchemy keeps (it flattens ``or_(or_(...))``)."""

    type = Boolean()
    inherit_cache = True
    name = "odata_group"
    # a condition, not a boolean value: without this, dialects lacking a boolean type (SQLite)
    # compare it with 1, and ``(a = 1 OR a = 2 ...) = 1`` is no longer searched by index but
    # evaluated on every row (a 250-key read of a 10,000-row table compared 2.5M times)
    _is_implicitly_boolean = True


@compiles(_Group)
def _group(element: _Group, compiler: SQLCompiler, **kw: Any) -> str:
    (inner,) = list(element.clauses)
    return f"({compiler.process(inner, **kw)})"


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
    expr: Expr,
    columns: ColumnLookup,
    *,
    case_insensitive: bool = False,
    field_types: FieldTypes | None = None,
    collation: str | None = None,
    fold: str = "lower",
    lower: str = "lower",
    upper: str = "upper",
) -> ColumnElement[bool]:
    """Compile ``expr`` to a SQLAlchemy condition over ``columns``.

    ``columns`` maps a field path to its column (a mapping, or a function raising ``KeyError``).
    ``field_types`` gives a field's FieldType, used to type a query function's values.
    ``collation``, when given, is applied to string comparisons (and implies case-insensitive
    ``contains``/``startswith``/``endswith`` through the SQL function named ``fold``).
    Raises :class:`UnknownFieldError` for a field ``columns`` does not know, and
    :class:`integrator.errors.FilterTypeError` for a query function value of the wrong type.
    """
    compiler = _Compiler(columns, case_insensitive or collation is not None)
    compiler.field_types = field_types
    compiler.collation = collation
    compiler.fold, compiler.lower, compiler.upper = fold, lower, upper
    return compiler.condition(expr)


class _Compiler:
    def __init__(self, columns: ColumnLookup, case_insensitive: bool) -> None:
        self.columns = columns
        self.case_insensitive = case_insensitive
        self.field_types: FieldTypes | None = None
        self.collation: str | None = None
        self.fold = self.lower = self.upper = ""

    def _sql_function(self, name: str, value: ColumnElement[Any]) -> ColumnElement[Any]:
        result: ColumnElement[Any] = getattr(func, name)(value)
        return result

    def column(self, path: str) -> ColumnElement[Any]:
        try:
            if callable(self.columns):
                return self.columns(path)
            return self.columns[path]
        except KeyError:
            raise UnknownFieldError(path) from None

    def condition(self, expr: Expr) -> ColumnElement[bool]:
        if isinstance(expr, And):
            return _chain(and_, [self.condition(item) for item in expr.items])
        if isinstance(expr, Or):
            return _chain(or_, [self.condition(item) for item in expr.items])
        if isinstance(expr, Not):
            return not_(self.condition(expr.item))
        if isinstance(expr, Compare):
            return self.compare(expr)
        if isinstance(expr, Literal):
            return true() if expr.value else false()
        if isinstance(expr, QueryFunction):
            self.column(expr.path)  # an unknown field is named before any value problem
            kind = self.field_types(expr.path) if self.field_types else None
            return self.condition(lower_query_function(expr, kind))
        return self.function(expr)

    def operand(self, operand: Operand, text: bool = False) -> ColumnElement[Any]:
        if isinstance(operand, Field):
            value = self.column(operand.path)
        elif isinstance(operand, Literal):
            value = literal(_bind_value(operand))
        else:
            inner = self.operand(operand.args[0], text=False)
            if operand.name == "tolower":
                value = self._sql_function(self.lower, inner)
            elif operand.name == "toupper":
                value = self._sql_function(self.upper, inner)
            else:
                value = func.trim(inner)
        if text and self.case_insensitive:
            if self.collation is not None:
                # a bare column keeps its own collation (and its index); others are given it
                return value if isinstance(operand, Field) else value.collate(self.collation)
            return self._sql_function(self.fold, value)
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
        haystack = self.operand(call.args[0])
        needle = self.operand(call.args[1])
        if self.case_insensitive:
            haystack = self._sql_function(self.fold, haystack)
            needle = self._sql_function(self.fold, needle)
        if call.name == "contains":
            return _Contains(haystack, needle)
        if call.name == "startswith":
            return func.substr(haystack, 1, func.length(needle)) == needle
        # endswith; the length guard keeps SQLite's negative-start substr() out of play
        return and_(
            func.length(haystack) >= func.length(needle),
            func.substr(haystack, func.length(haystack) - func.length(needle) + 1) == needle,
        )


#: the most items one SQL ``AND``/``OR`` chain holds; longer chains are grouped
_CHAIN = 50


def _chain(join: Any, items: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    """``items`` joined by ``join`` (``and_``/``or_``), in groups of :data:`_CHAIN`.

    SQLite parses ``a OR b OR ...`` into a tree as deep as the chain is long and refuses one
    deeper than 1000 ("Expression tree is too large"): an ``In`` of 1000 values would fail.
    Groups keep the depth near ``_CHAIN`` per level, and add a level of parentheses only per
    50-fold length.
    """
    while len(items) > _CHAIN:
        items = [_Group(join(*items[i : i + _CHAIN])) for i in range(0, len(items), _CHAIN)]
    result: ColumnElement[bool] = join(*items)
    return result


def _bind_value(literal_: Literal) -> Any:
    if literal_.kind == "boolean":
        return bool(literal_.value)
    return literal_.value
