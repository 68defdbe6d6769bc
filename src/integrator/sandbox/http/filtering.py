"""``$filter`` (and F&O's company restriction) as a SQL condition over a served entity set.

Fields are the set's OData properties, lookups as ``_name_value``, and one navigation step
(``parentcustomerid_account/accountnumber``) as a correlated subquery. On F&O, ``*`` in a string
compared with ``eq``/``ne`` is a wildcard, as F&O's OData treats it.

Before compiling, the filter is checked against the properties' types and refused with 400 as
Dataverse refuses it (:mod:`integrator.odata.types`). Dataverse's query functions
(``Microsoft.Dynamics.CRM.In`` ...) are served on Dataverse services and refused on F&O, whose
OData service does not define them. Strings compare under the stores' Unicode case-insensitive
``NOCASE`` collation (:mod:`integrator.sandbox.stores.collation`), so ``eq`` on an indexed
column stays an index search.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from integrator.errors import FilterTypeError
from integrator.odata.filter import (
    And,
    Call,
    Compare,
    Expr,
    Literal,
    Not,
    Operand,
    Or,
    QueryFunction,
    UnknownFieldError,
    check_types,
    expand_query_functions,
    to_sqlalchemy,
)
from integrator.sandbox.http.errors import INVALID_FILTER, ODataError
from integrator.sandbox.http.model import ServedSet
from integrator.sandbox.http.query import QueryOptions
from integrator.sandbox.http.values import utc_text

__all__ = ["field_type", "finops_wildcards", "normalize_datetimes", "where_clause"]


def _wildcard(compare: Compare) -> Expr:
    """F&O's ``Field eq '*text*'``: ``*`` in a string compared with eq/ne is a wildcard."""
    field, literal = compare.left, compare.right
    if isinstance(field, Literal):
        field, literal = literal, field
    if (
        compare.op not in ("eq", "ne")
        or not isinstance(literal, Literal)
        or literal.kind != "string"
        or "*" not in str(literal.value)
    ):
        return compare
    text = str(literal.value)
    inner = text.strip("*")
    if "*" in inner:
        raise ODataError(
            400, INVALID_FILTER, f"Only leading and trailing wildcards are supported: '{text}'"
        )
    starts, ends = text.startswith("*"), text.endswith("*")
    name = "contains" if starts and ends else ("endswith" if starts else "startswith")
    matched: Expr = Call(name, (field, Literal(inner, "string")))
    return Not(matched) if compare.op == "ne" else matched


def finops_wildcards(expr: Expr) -> Expr:
    """``expr`` with F&O wildcard comparisons turned into contains/startswith/endswith."""
    if isinstance(expr, And):
        return And(tuple(finops_wildcards(e) for e in expr.items))
    if isinstance(expr, Or):
        return Or(tuple(finops_wildcards(e) for e in expr.items))
    if isinstance(expr, Not):
        return Not(finops_wildcards(expr.item))
    if isinstance(expr, Compare):
        return _wildcard(expr)
    return expr


def _filter_column(served: ServedSet, path: str) -> ColumnElement[Any]:
    if "/" not in path:
        prop = served.properties.get(path)
        if prop is None:
            raise KeyError(path)
        return served.table.c[prop.column]
    nav_name, _, rest = path.partition("/")
    nav = served.navigations.get(nav_name)
    if nav is None or "/" in rest or rest not in nav.target.properties:
        raise KeyError(path)
    target = nav.target
    target_table = target.table.alias()
    target_key = target_table.c[target.properties[target.key[0]].column]
    condition = target_key == served.table.c[nav.lookup.column]
    if nav.lookup.type_column:
        condition = sa.and_(
            condition, served.table.c[nav.lookup.type_column] == nav.target_logical_name
        )
    prop = target.properties[rest]
    value = sa.select(target_table.c[prop.column]).where(condition).scalar_subquery()
    if prop.type in ("string", "enum", "guid"):
        # a subquery carries no column collation: give it the stores' case-insensitive one
        return value.collate("NOCASE")
    return value


def _utc_literal(operand: Operand) -> Operand:
    if isinstance(operand, Literal) and operand.kind in ("datetime", "date"):
        try:
            return Literal(utc_text(str(operand.value)), "datetime")
        except ValueError:
            raise ODataError(
                400, INVALID_FILTER, f"Invalid date/time {operand.value!r} in $filter"
            ) from None
    return operand


def normalize_datetimes(expr: Expr) -> Expr:
    """``expr`` with date and date-time literals written as the stores keep date-times."""
    if isinstance(expr, And):
        return And(tuple(normalize_datetimes(e) for e in expr.items))
    if isinstance(expr, Or):
        return Or(tuple(normalize_datetimes(e) for e in expr.items))
    if isinstance(expr, Not):
        return Not(normalize_datetimes(expr.item))
    if isinstance(expr, Compare):
        return Compare(expr.op, _utc_literal(expr.left), _utc_literal(expr.right))
    return expr


def field_type(served: ServedSet, path: str) -> str | None:
    """The FieldType of a ``$filter`` field path on ``served`` (``None`` when there is none)."""
    prop = served.properties.get(path)
    if prop is not None:
        return prop.type
    nav_name, _, rest = path.partition("/")
    nav = served.navigations.get(nav_name)
    target = nav.target.properties.get(rest) if nav is not None else None
    return target.type if target is not None else None


def _query_functions(expr: Expr) -> list[QueryFunction]:
    found: list[QueryFunction] = []
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, And | Or):
            stack.extend(node.items)
        elif isinstance(node, Not):
            stack.append(node.item)
        elif isinstance(node, QueryFunction):
            found.append(node)
    return found


def _checked(served: ServedSet, expr: Expr) -> Expr:
    """``expr`` type-checked, with query functions written out; 400 as the service answers."""
    functions = _query_functions(expr)
    if functions and served.service.flavor == "finops":
        # F&O's OData service (Microsoft's OData library) has no Microsoft.Dynamics.CRM functions
        name = f"Microsoft.Dynamics.CRM.{functions[0].name}"
        raise ODataError(
            400,
            INVALID_FILTER,
            f"An unknown function with name '{name}' was found. This may also be a function "
            "import or a key lookup on a navigation property, which is not allowed.",
        )
    types = functools.partial(field_type, served)
    try:
        check_types(expr, types)
        return expand_query_functions(expr, types) if functions else expr
    except FilterTypeError as exc:
        raise ODataError(400, INVALID_FILTER, exc.reason) from None


def where_clause(
    served: ServedSet, options: QueryOptions, *, case_insensitive: bool
) -> ColumnElement[bool] | None:
    """The SQL condition of ``options``' ``$filter`` and company restriction, or ``None``.

    ``case_insensitive`` string matching relies on the stores' convention that text columns are
    ``COLLATE NOCASE`` (so ``eq`` over an indexed column stays an index lookup); the functions
    fold case with the stores' ``odata_casefold``.
    """
    conditions: list[ColumnElement[bool]] = []
    if options.filter is not None:
        expr = _checked(served, options.filter)
        if served.service.flavor == "finops":
            expr = finops_wildcards(expr)
        expr = normalize_datetimes(expr)
        strings: dict[str, Any] = {"lower": "odata_lower", "upper": "odata_upper"}
        if case_insensitive:
            strings.update(collation="NOCASE", fold="odata_casefold")
        try:
            condition = to_sqlalchemy(expr, lambda path: _filter_column(served, path), **strings)
            conditions.append(condition)
        except UnknownFieldError as exc:
            raise ODataError(
                400,
                INVALID_FILTER,
                f"Could not find a property named '{exc.field}' on {served.name} ($filter)",
            ) from None
    company = served.company_field
    default = served.service.default_company
    if company and default and not options.cross_company:
        # lower() keeps the planner from picking the company index over the $filter's keys
        conditions.append(sa.func.lower(served.column(company)) == default.lower())
    if not conditions:
        return None
    return sa.and_(*conditions) if len(conditions) > 1 else conditions[0]
