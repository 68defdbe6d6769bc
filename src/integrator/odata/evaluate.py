"""Evaluate a ``$filter`` syntax tree against records in Python, with SQL's three-valued logic.

A comparison with a null value (other than ``eq null`` / ``ne null``) is *unknown*; ``not``
of unknown is unknown, and an unknown result does not select the record. This matches what
the SQL compiler in :mod:`integrator.odata.sql` produces, so the two can be compared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from integrator.odata.ast import And, Call, Compare, Expr, Field, Literal, Not, Operand, Or

__all__ = ["evaluate", "field_value"]

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
            return left.lower(), right.lower()
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
            haystack, needle = haystack.lower(), needle.lower()
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
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _as_number(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value
