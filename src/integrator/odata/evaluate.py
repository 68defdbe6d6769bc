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

import operator
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

__all__ = ["Predicate", "compile_filter", "evaluate", "field_value"]

_DATE_FUNCTIONS = frozenset({"On", "OnOrAfter", "OnOrBefore", "LastXDays", "NextXDays"})

Resolver = Callable[[Mapping[str, Any], str], Any]
#: a compiled filter: whether it selects a record
Predicate = Callable[[Mapping[str, Any]], bool]
_Truth = Callable[[Mapping[str, Any]], bool | None]
_Getter = Callable[[Mapping[str, Any]], Any]


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


def compile_filter(
    expr: Expr, *, case_insensitive: bool = False, resolve: Resolver = field_value
) -> Predicate:
    """``expr`` compiled once into a function of a record: ``compile_filter(e)(r)`` is
    ``evaluate(e, r)`` for every record (same three-valued logic, case folding and type
    rules), without walking the tree per record."""
    truth = _Compiler(case_insensitive, resolve).truth(expr)
    return lambda record: truth(record) is True


class _Compiler:
    """Builds a closure per node; each mirrors the branch of :class:`_Evaluator` it replaces."""

    def __init__(self, case_insensitive: bool, resolve: Resolver) -> None:
        self.case_insensitive = case_insensitive
        self.resolve = resolve

    def truth(self, expr: Expr) -> _Truth:
        if isinstance(expr, And | Or):
            return self._junction(expr)
        if isinstance(expr, Not):
            inner = self.truth(expr.item)

            def negated(record: Mapping[str, Any]) -> bool | None:
                value = inner(record)
                return None if value is None else not value

            return negated
        if isinstance(expr, Compare):
            return self._compare(expr)
        if isinstance(expr, Literal):
            constant = bool(expr.value)
            return lambda record: constant
        if isinstance(expr, QueryFunction):
            # lowered per record: the lowering depends on the value's type
            evaluator = _Evaluator(self.case_insensitive, self.resolve)
            return lambda record: evaluator.truth(expr, record)
        return self._function(expr)

    def _junction(self, expr: And | Or) -> _Truth:
        items = [self.truth(item) for item in expr.items]
        # And stops at the first False, Or at the first True; unknown otherwise wins
        decisive = not isinstance(expr, And)

        def junction(record: Mapping[str, Any]) -> bool | None:
            result: bool | None = not decisive
            for item in items:
                value = item(record)
                if value is decisive:
                    return decisive
                if value is None:
                    result = None
            return result

        return junction

    def _value(self, operand: Operand) -> _Getter:
        if isinstance(operand, Literal):
            constant = operand.value
            return lambda record: constant
        if isinstance(operand, Field):
            path, resolve = operand.path, self.resolve
            return lambda record: resolve(record, path)
        argument = self._value(operand.args[0])
        name = operand.name

        def call(record: Mapping[str, Any]) -> Any:
            value = argument(record)
            if value is None:
                return None
            text = str(value)
            if name == "tolower":
                return text.lower()
            if name == "toupper":
                return text.upper()
            return text.strip()

        return call

    def _compare(self, expr: Compare) -> _Truth:
        left, right = self._value(expr.left), self._value(expr.right)
        op = _OPERATORS[expr.op]
        if _is_null_literal(expr.right) or _is_null_literal(expr.left):
            other = left if _is_null_literal(expr.right) else right
            if expr.op == "eq":
                return lambda record: other(record) is None
            if expr.op == "ne":
                return lambda record: other(record) is not None
            return lambda record: None
        kinds = {o.kind for o in (expr.left, expr.right) if isinstance(o, Literal)}
        dated = "datetime" in kinds
        fold = self.case_insensitive

        def compare(record: Mapping[str, Any]) -> bool | None:
            a, b = left(record), right(record)
            if a is None or b is None:
                return None
            if dated:
                a, b = _as_datetime(a), _as_datetime(b)
            elif fold and isinstance(a, str) and isinstance(b, str):
                a, b = a.rstrip(" ").casefold(), b.rstrip(" ").casefold()
            elif isinstance(a, bool) or isinstance(b, bool):
                a, b = _as_number(a), _as_number(b)
            try:
                return bool(op(a, b))
            except TypeError:
                return None

        return compare

    def _function(self, call: Call) -> _Truth:
        haystack_of, needle_of = self._value(call.args[0]), self._value(call.args[1])
        fold = self.case_insensitive
        test: Callable[[str, str], bool] = (
            str.__contains__
            if call.name == "contains"
            else str.startswith
            if call.name == "startswith"
            else str.endswith
        )

        def function(record: Mapping[str, Any]) -> bool | None:
            haystack, needle = haystack_of(record), needle_of(record)
            if haystack is None or needle is None:
                return None
            haystack, needle = str(haystack), str(needle)
            if fold:
                haystack, needle = haystack.casefold(), needle.casefold()
            return test(haystack, needle)

        return function


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


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
