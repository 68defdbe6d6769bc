"""Which OData properties to ask for, and how to turn an answer row into a record.

A requested field is one of: a property (``firstname``), a lookup presented by its name
(``parentcustomerid``, read from ``_parentcustomerid_value``), or a dotted path through a lookup
or navigation property (``parentcustomerid.accountnumber``), read with ``$expand`` in the same
request: ``$expand=parentcustomerid_account($select=accountnumber)``. A polymorphic lookup
expands every target that has the field; the first non-empty one wins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from integrator.connectors.base import Record
from integrator.connectors.http.metadata import EntitySetMetadata, ServiceMetadata
from integrator.errors import RequestRejected
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

__all__ = ["Projection", "project", "rename_fields"]


@dataclass(frozen=True)
class Projection:
    """``$select``/``$expand`` for a set of fields, and the function that builds records."""

    select: tuple[str, ...]
    expand: tuple[str, ...]
    extract: Callable[[Mapping[str, Any]], Record]

    def params(self) -> dict[str, str]:
        """The query options (``$select``, ``$expand``) as parameters."""
        params = {"$select": ",".join(self.select)}
        if self.expand:
            params["$expand"] = ",".join(self.expand)
        return params


def _unknown(meta: EntitySetMetadata, name: str, why: str = "") -> RequestRejected:
    return RequestRejected(
        f"entity {meta.info.name} has no field {name!r}{why}", status=None, code="unknown-field"
    )


def project(service: ServiceMetadata, meta: EntitySetMetadata, fields: Sequence[str]) -> Projection:
    """Plan reading ``fields`` of ``meta``'s entity set; ``RequestRejected`` for unknown fields."""
    select: dict[str, None] = {}
    expands: dict[str, dict[str, None]] = {}
    plain: list[tuple[str, str]] = []
    dotted: list[tuple[str, list[tuple[str, str]]]] = []
    for name in fields:
        head, dot, tail = name.partition(".")
        if not dot:
            prop = meta.properties.get(name)
            if prop is None:
                raise _unknown(meta, name)
            select[prop] = None
            plain.append((name, prop))
            continue
        if "." in tail:
            raise _unknown(meta, name, " (only one level of lookup can be followed)")
        navigations = meta.navigations_of(head) or [n for n in meta.navigations if n.name == head]
        sources: list[tuple[str, str]] = []
        for nav in navigations:
            target_set = service.set_of_type.get(nav.target_type)
            target = service.entity_sets.get(target_set) if target_set else None
            if target is None or tail not in target.properties:
                continue
            target_prop = target.properties[tail]
            expands.setdefault(nav.name, {})[target_prop] = None
            sources.append((nav.name, target_prop))
        if not sources:
            raise _unknown(meta, name, f" (no relation {head!r} leads to a field {tail!r})")
        dotted.append((name, sources))
    if not select:  # $select must not be empty; the key is always cheap
        for key_field in meta.info.key:
            select[meta.properties.get(key_field, key_field)] = None

    def extract(row: Mapping[str, Any]) -> Record:
        record: Record = {name: row.get(prop) for name, prop in plain}
        for name, sources in dotted:
            value = None
            for nav_name, prop in sources:
                related = row.get(nav_name)
                if isinstance(related, Mapping) and related.get(prop) is not None:
                    value = related[prop]
                    break
            record[name] = value
        return record

    expand = tuple(f"{nav}($select={','.join(props)})" for nav, props in expands.items())
    return Projection(tuple(select), expand, extract)


def _rename_operand(operand: Operand, names: Mapping[str, str]) -> Operand:
    if isinstance(operand, Field):
        return Field(names.get(operand.path, operand.path))
    if isinstance(operand, Call):
        return Call(operand.name, tuple(_rename_operand(a, names) for a in operand.args))
    return operand


def rename_fields(expr: Expr, names: Mapping[str, str]) -> Expr:
    """``expr`` with fields renamed to OData properties (``parentcustomerid`` → ``_…_value``)."""
    if isinstance(expr, And):
        return And(tuple(rename_fields(e, names) for e in expr.items))
    if isinstance(expr, Or):
        return Or(tuple(rename_fields(e, names) for e in expr.items))
    if isinstance(expr, Not):
        return Not(rename_fields(expr.item, names))
    if isinstance(expr, Compare):
        return Compare(
            expr.op, _rename_operand(expr.left, names), _rename_operand(expr.right, names)
        )
    if isinstance(expr, QueryFunction):
        return QueryFunction(expr.name, names.get(expr.path, expr.path), expr.values)
    if isinstance(expr, Literal):
        return expr
    renamed = _rename_operand(expr, names)
    assert isinstance(renamed, Call)
    return renamed
