"""Evaluate a ``$filter`` syntax tree against records in Python, with SQL's three-valued logic.

A comparison with a null value (other than ``eq null`` / ``ne null``) is *unknown*; ``not``
of unknown is unknown, and an unknown result does not select the record. This is what Dataverse
documents ("Records aren't returned if the expression evaluates to false or null",
``powerapps-docs/developer/data-platform/webapi/query/filter-rows.md``) and what the SQL compiler
in :mod:`integrator.odata.sql` produces, so ``lastname ne 'x'`` does not select a blank lastname.

Case-insensitive comparison is Dataverse's and F&O's (SQL Server collations): Unicode case
folding (``str.casefold``) and trailing spaces ignored, the same rule the sandbox's SQLite
collation applies. Dataverse query functions are rewritten into comparisons
(:mod:`integrator.odata.functions`) with the property's type taken from the record's value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

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

__all__ = ["evaluate", "field_value"]

_DATE_FUNCTIONS = frozenset({"On", "OnOrAfter", "OnOrBefore", "LastXDays", "NextXDays"})

Resolver = Callable[[Mapping[str, Any], str], Any]


def field_value(record: Mapping[str, Any], path: str) -> Any:
    """The value of ``path`` in ``record``; a navigation path ``a/b`` also matches ``a.b``."""
    if path in record:
        return record[path]
    return record.get(path.replace("/", "."))


def evaluate(
    expr: Expr,
    record: Mapping[str, Any],
    *,
    case_insensitive: bool = False,
    resolve: Resolver = field_value,
) -> bool:
    """True when ``record`` satisfies ``expr`` (unknown counts as not satisfied).

    With ``case_insensitive`` strings compare without regard to case, as Dataverse does.
    """
    return _Evaluator(case_insensitive, resolve).truth(expr, record) is True


class _Evaluator:
    def __init__(self, case_insensitive: bool, resolve: Resolver) -> None:
        self.case_insensitive = case_insensitive
        self.resolve = resolve

    def truth(self, expr: Expr, record: Mapping[str, Any]) -> bool | None:
        if isinstance(expr, And):
            result: bool | None = True
            for item in expr.items:
                value = self.truth(item, record)
                if value is False:
                    return False
                if value is None:
                    result = None
            return result
        if isinstance(expr, Or):
            result = False
            for item in expr.items:
                value = self.truth(item, record)
                if value is True:
                    return True
                if value is None:
                    result = None
            return result
        if isinstance(expr, Not):
            value = self.truth(expr.item, record)
            return None if value is None else not value
        if isinstance(expr, Compare):
            return self._compare(expr, record)
        if isinstance(expr, Literal):
            return bool(expr.value)
        if isinstance(expr, QueryFunction):
            value = self.resolve(record, expr.path)
            if value is None:
                return None
            return self.truth(_lowered(expr, _field_type_of(value)), record)
        return self._function(expr, record)

    def _value(self, operand: Operand, record: Mapping[str, Any]) -> Any:
        if isinstance(operand, Literal):
            return operand.value
        if isinstance(operand, Field):
            return self.resolve(record, operand.path)
        argument = self._value(operand.args[0], record)
        if argument is None:
            return None
        text = str(argument)
        if operand.name == "tolower":
            return text.lower()
        if operand.name == "toupper":
            return text.upper()
        return text.strip()

    def _compare(self, expr: Compare, record: Mapping[str, Any]) -> bool | None:
        left = self._value(expr.left, record)
        right = self._value(expr.right, record)
        if _is_null_literal(expr.right) or _is_null_literal(expr.left):
            other = left if _is_null_literal(expr.right) else right
            if expr.op == "eq":
                return other is None
            if expr.op == "ne":
                return other is not None
            return None
        if left is None or right is None:
            return None
        left, right = self._comparable(left, right, expr)
        try:
            if expr.op == "eq":
                return bool(left == right)
            if expr.op == "ne":
                return bool(left != right)
            if expr.op == "gt":
                return bool(left > right)
            if expr.op == "ge":
                return bool(left >= right)
            if expr.op == "lt":
                return bool(left < right)
            return bool(left <= right)
        except TypeError:
            return None

    def _comparable(self, left: Any, right: Any, expr: Compare) -> tuple[Any, Any]:
        kinds = {o.kind for o in (expr.left, expr.right) if isinstance(o, Literal)}
        if "datetime" in kinds:
            return _as_datetime(left), _as_datetime(right)
        if isinstance(left, str) and isinstance(right, str) and self.case_insensitive:
            # as a SQL Server collation: case ignored, trailing spaces padded away
            return left.rstrip(" ").casefold(), right.rstrip(" ").casefold()
        if isinstance(left, bool) or isinstance(right, bool):
            return _as_number(left), _as_number(right)
        return left, right

    def _function(self, call: Call, record: Mapping[str, Any]) -> bool | None:
        haystack = self._value(call.args[0], record)
        needle = self._value(call.args[1], record)
        if haystack is None or needle is None:
            return None
        haystack, needle = str(haystack), str(needle)
        if self.case_insensitive:
            haystack, needle = haystack.casefold(), needle.casefold()
        if call.name == "contains":
            return needle in haystack
        if call.name == "startswith":
            return haystack.startswith(needle)
        return haystack.endswith(needle)


def _is_null_literal(operand: Operand) -> bool:
    return isinstance(operand, Literal) and operand.kind == "null"


def _as_datetime(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _field_type_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "decimal"
    if isinstance(value, datetime):
        return "datetime"
    return "string" if isinstance(value, str) else None


def _lowered(fn: QueryFunction, field_type: str | None) -> Expr:
    if fn.name in _DATE_FUNCTIONS:  # "now" moves: not cached
        return lower_query_function(fn, "datetime")
    return _lowered_values(fn, field_type)


@lru_cache(maxsize=256)
def _lowered_values(fn: QueryFunction, field_type: str | None) -> Expr:
    return lower_query_function(fn, field_type)


def _as_number(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value
