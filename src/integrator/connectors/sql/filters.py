"""``$filter`` to SQL for this connector: the shared compiler, plus date and time comparisons.

A ``datetime`` literal (``modifiedon gt 2024-01-01T00:00:00Z``) arrives as ISO text, and so does
a GUID. Compared as text a moment is wrong on SQLite (``...00.500Z`` sorts before ``...00Z``) and
refused by PostgreSQL (``timestamptz > varchar``, ``uuid = varchar``). So each comparison of a
column with such a literal is rewritten: on SQLite both sides of a moment go through
``julianday()`` (which reads ISO text with ``T`` and ``Z``, to the millisecond); elsewhere the
literal is cast to the column's type. For moments this is what
:func:`integrator.odata.filter.evaluate` does in Python: compare them as points in time.

Dataverse query functions (``Microsoft.Dynamics.CRM.In``, ``Between``, ``On``, ``LastXDays`` ...)
are written out first as the comparisons they stand for, their values typed by the columns'
kinds (:mod:`integrator.odata.functions`; dates in UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter
from sqlalchemy.sql.visitors import replacement_traverse

from integrator.odata.ast import And, Call, Compare, Expr, Literal, Not, Or
from integrator.odata.filter import expand_query_functions, to_sqlalchemy

__all__ = ["compile_filter"]

_COMPARISONS = {
    operators.eq,
    operators.ne,
    operators.gt,
    operators.ge,
    operators.lt,
    operators.le,
}


def compile_filter(
    expr: Expr,
    columns: Mapping[str, ColumnElement[Any]],
    *,
    case_insensitive: bool,
    sqlite: bool,
    typed: set[str],
    kinds: Mapping[str, str] | None = None,
) -> ColumnElement[bool]:
    """``expr`` as a SQL condition over ``columns``; ``typed`` names the fields stored as dates,
    times or GUIDs, which a text literal is cast to (on SQLite, any column compared with a date
    literal is compared as a moment). ``kinds`` (field → FieldType) types query functions' values;
    a value of the wrong type raises :class:`integrator.errors.FilterTypeError`."""
    expr = expand_query_functions(expr, (kinds or {}).get)
    condition = to_sqlalchemy(expr, columns, case_insensitive=case_insensitive)
    moments = _temporal_literals(expr)
    typed_columns = {id(columns[name]) for name in typed if name in columns}
    if not (moments if sqlite else typed_columns):
        return condition
    every_column = {id(c) for c in columns.values()}

    def rewrite(element: Any, **_: Any) -> Any:
        if not isinstance(element, BinaryExpression) or element.operator not in _COMPARISONS:
            return None
        left, right = element.left, element.right
        if isinstance(left, BindParameter) and id(right) in every_column:
            column, bind, column_first = right, left, False
        elif isinstance(right, BindParameter) and id(left) in every_column:
            column, bind, column_first = left, right, True
        else:
            return None
        column_side: ColumnElement[Any]
        literal_side: ColumnElement[Any]
        if sqlite and bind.value in moments:
            column_side, literal_side = sa.func.julianday(column), sa.func.julianday(bind)
        elif not sqlite and id(column) in typed_columns and isinstance(bind.value, str):
            column_side, literal_side = column, sa.cast(bind, column.type)
        else:
            return None
        pair = (column_side, literal_side) if column_first else (literal_side, column_side)
        rewritten: ColumnElement[Any] = element.operator(*pair)
        return rewritten

    rewritten: ColumnElement[bool] = replacement_traverse(condition, {}, rewrite)
    return rewritten


def _temporal_literals(expr: Expr) -> set[Any]:
    found: set[Any] = set()
    stack: list[Any] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, And | Or):
            stack.extend(node.items)
        elif isinstance(node, Not):
            stack.append(node.item)
        elif isinstance(node, Compare):
            stack.extend((node.left, node.right))
        elif isinstance(node, Call):
            stack.extend(node.args)
        elif isinstance(node, Literal) and node.kind in ("datetime", "date"):
            found.add(node.value)
    return found
