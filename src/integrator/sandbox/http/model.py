"""What the HTTP layer serves of an entity set: its OData properties, keys, lookups, SQL table.

:class:`ServedSet` is computed once per entity set from the ``schema.py`` description; every
request works from it, so the protocol code stays generic over any set a store describes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.sql.expression import TableClause

from integrator.connectors.base import FieldType
from integrator.sandbox.schema import Column, EntitySet, Lookup, Service

__all__ = ["Navigation", "Property", "ServedService", "ServedSet", "lookup_property_name"]


def lookup_property_name(lookup: Lookup) -> str:
    """The read-side name of a lookup: ``_parentcustomerid_value``."""
    return f"_{lookup.name}_value"


@dataclass(frozen=True)
class Property:
    """One OData property: its name, the SQLite column holding it and its type."""

    name: str
    column: str
    type: FieldType
    definition: Column | None = None
    lookup: Lookup | None = None

    @property
    def max_length(self) -> int | None:
        """The longest string the property accepts, or ``None``."""
        return self.definition.max_length if self.definition else None

    @property
    def read_only(self) -> bool:
        """Whether the system maintains the property (writes to it are ignored)."""
        return bool(self.definition and self.definition.read_only)


@dataclass(frozen=True)
class Navigation:
    """A single-valued navigation property: ``parentcustomerid_account`` → the account set."""

    name: str
    lookup: Lookup
    target_logical_name: str
    target: ServedSet


@dataclass(eq=False)
class ServedSet:
    """An entity set as served: properties by OData name, navigations, keys and its table."""

    service: Service
    entity_set: EntitySet
    properties: dict[str, Property]
    table: TableClause
    navigations: dict[str, Navigation] = field(default_factory=dict)

    @classmethod
    def build(cls, service: Service, entity_set: EntitySet) -> ServedSet:
        """The served view of ``entity_set`` (navigations are linked by :class:`ServedService`)."""
        lookup_columns = {lk.column for lk in entity_set.lookups}
        lookup_columns |= {lk.type_column for lk in entity_set.lookups if lk.type_column}
        properties: dict[str, Property] = {}
        for col in entity_set.columns:
            if col.name in lookup_columns or col.type == "lookup":
                continue
            properties[col.name] = Property(col.name, col.name, col.type, col)
        for lk in entity_set.lookups:
            name = lookup_property_name(lk)
            properties[name] = Property(name, lk.column, "guid", entity_set.column(lk.column), lk)
        sql_columns = [p.column for p in properties.values()]
        sql_columns += [lk.type_column for lk in entity_set.lookups if lk.type_column]
        table = sa.table(entity_set.table, *(sa.column(c) for c in dict.fromkeys(sql_columns)))
        return cls(service, entity_set, properties, table)

    @property
    def name(self) -> str:
        """The entity set's name (``contacts``)."""
        return self.entity_set.name

    @property
    def key(self) -> tuple[str, ...]:
        """The primary key's property names."""
        return self.entity_set.key

    @property
    def company_field(self) -> str | None:
        """F&O: the company property (``dataAreaId``), else ``None``."""
        return self.entity_set.company_field

    def column(self, prop: str) -> sa.ColumnClause[object]:
        """The SQL column behind property ``prop`` (which must exist)."""
        return self.table.c[self.properties[prop].column]

    def version_column(self) -> str | None:
        """The row-version column (``versionnumber``) when the set has one."""
        return "versionnumber" if "versionnumber" in self.properties else None


@dataclass(eq=False)
class ServedService:
    """A service and its served entity sets, navigations linked across sets."""

    service: Service
    sets: dict[str, ServedSet]
    by_logical_name: Mapping[str, ServedSet]

    @classmethod
    def build(cls, service: Service) -> ServedService:
        """Serve every entity set of ``service``."""
        sets = {es.name: ServedSet.build(service, es) for es in service.entity_sets}
        by_logical = {s.entity_set.entity_type: s for s in sets.values()}
        by_logical.update({s.entity_set.table: s for s in sets.values() if s.entity_set.table})
        for served in sets.values():
            for lk in served.entity_set.lookups:
                for target in lk.targets:
                    target_set = by_logical.get(target) or sets.get(target)
                    nav = lk.navigation.get(target)
                    if target_set is None or nav is None:
                        continue
                    served.navigations[nav] = Navigation(nav, lk, target, target_set)
        return cls(service, sets, by_logical)
