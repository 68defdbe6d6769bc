"""How the sandbox describes its systems: services, entity sets, columns, keys and lookups.

This is the contract between the sandbox's stores (which create SQLite tables, triggers and
reference data from it) and its HTTP layer (which serves OData over any entity set described
here, and writes ``$metadata`` from it). The concrete descriptions live in
``integrator.sandbox.stores``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from integrator.connectors.base import FieldType

__all__ = ["Column", "EntitySet", "Lookup", "Service"]


@dataclass(frozen=True)
class Column:
    """A property of an entity: its OData name is also its SQLite column name."""

    name: str
    type: FieldType
    max_length: int | None = None
    #: required when a record is created (business required / mandatory in F&O)
    required: bool = False
    #: maintained by the system (createdon, modifiedon, versionnumber, fullname, ...)
    read_only: bool = False
    #: for ``enum`` columns: the enum type's name (``NoYes``) and its members (``No``, ``Yes``)
    enum_type: str | None = None
    enum_values: tuple[str, ...] | None = None
    #: for Dataverse option sets (``integer`` columns such as ``accountrolecode``): the valid values
    options: tuple[int, ...] | None = None
    #: the value a new row gets when the create does not carry the column (SQL literal semantics)
    default: str | int | None = None


@dataclass(frozen=True)
class Lookup:
    """A single-valued relation, as Dataverse lookups are (``parentcustomerid``).

    Stored as the target's id in ``column`` (and, when polymorphic, the target's entity logical
    name in ``type_column``). Read as ``_<name>_value``; written with
    ``<navigation[target]>@odata.bind``; expanded by its navigation property names.
    """

    name: str
    column: str
    targets: tuple[str, ...]
    #: target logical name -> navigation property: ``account`` -> ``parentcustomerid_account``
    navigation: dict[str, str]
    type_column: str | None = None


@dataclass(frozen=True)
class EntitySet:
    """One entity set served by a service, stored in one SQLite table."""

    name: str
    entity_type: str
    table: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    alternate_keys: tuple[tuple[str, ...], ...] = ()
    lookups: tuple[Lookup, ...] = ()
    #: Dataverse change tracking (``Prefer: odata.track-changes``) is served for this set
    change_tracking: bool = False
    #: F&O: the company column (``dataAreaId``); rows outside the default company are hidden
    #: unless ``cross-company=true``
    company_field: str | None = None
    #: accepted on create/update but never returned by reads: none here; kept for completeness
    read_only: bool = False

    def lookup(self, name: str) -> Lookup | None:
        """The lookup named ``name`` (``parentcustomerid``), or ``None``."""
        for lk in self.lookups:
            if lk.name == name:
                return lk
        return None

    def column(self, name: str) -> Column | None:
        """The column named ``name``, or ``None``."""
        for c in self.columns:
            if c.name == name:
                return c
        return None


@dataclass(frozen=True)
class Service:
    """One of the three systems: Sales, CDS or F&O."""

    name: Literal["sales", "cds", "finops"]
    base_path: str
    flavor: Literal["dataverse", "finops"]
    database: str
    max_page_size: int
    namespace: str
    entity_sets: tuple[EntitySet, ...] = field(default=())
    #: F&O: the default company returned when ``cross-company`` is not asked for
    default_company: str | None = None

    def entity_set(self, name: str) -> EntitySet | None:
        """The entity set named ``name`` (case-sensitive, as OData is), or ``None``."""
        for s in self.entity_sets:
            if s.name == name:
                return s
        return None

    def entity_set_of_type(self, entity_type: str) -> EntitySet | None:
        """The entity set whose entity type (logical name) is ``entity_type``, or ``None``.

        Lookup targets name entity types (``account``); this finds their set (``accounts``).
        """
        for s in self.entity_sets:
            if s.entity_type == entity_type:
                return s
        return None
