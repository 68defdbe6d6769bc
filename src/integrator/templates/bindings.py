"""Bindings: destination fields whose value is an entry of the connection set's organization
mapping, as a template declares them per leg::

    bindings:
      source_to_cds: {Organization_OrganizationId: cds_organization}
      cds_to_destination: {dataAreaId: finops_legal_entity}

The engine writes the bound value (:func:`bound_values`); validation checks that a template
value (a ``Default``) in the mapping agrees with it and that the organization exists in its
system (:data:`ORGANIZATIONS` says where each entry is looked up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from integrator.templates.model import Leg, OrganizationEntry, System

__all__ = ["ORGANIZATIONS", "OrganizationTable", "OrganizationValues", "bound_values"]


class OrganizationValues(Protocol):
    """A connection set's organization mapping, as far as bindings read it."""

    @property
    def cds_organization(self) -> str:
        """The CDS organization (``OrganizationId``)."""
        ...

    @property
    def finops_legal_entity(self) -> str:
        """The F&O legal entity (``dataAreaId``)."""
        ...


@dataclass(frozen=True)
class OrganizationTable:
    """Where the organizations an entry names are listed in their system."""

    system: System
    entity: str
    field: str
    #: how people call one: "CDS organization", "F&O legal entity"
    title: str
    #: whether the system compares the ids without regard to case (F&O's ``dataAreaId``)
    case_insensitive: bool = False

    def same(self, left: str, right: str) -> bool:
        """Whether ``left`` and ``right`` name the same organization in this system."""
        if self.case_insensitive:
            return left.casefold() == right.casefold()
        return left == right


ORGANIZATIONS: dict[OrganizationEntry, OrganizationTable] = {
    "cds_organization": OrganizationTable(
        "cds", "organizations", "OrganizationId", "CDS organization"
    ),
    "finops_legal_entity": OrganizationTable(
        "finops", "LegalEntities", "LegalEntityId", "F&O legal entity", case_insensitive=True
    ),
}


def bound_values(leg: Leg, organization: OrganizationValues) -> dict[str, str]:
    """The value each bound field of ``leg`` is written with: its entry of ``organization``.

    The engine sets these on every record the leg maps, after the mapping rows ran, so the
    connection set decides (validation has made sure the rows' template values agree)."""
    entries = {
        "cds_organization": organization.cds_organization,
        "finops_legal_entity": organization.finops_legal_entity,
    }
    return {field_name: entries[entry] for field_name, entry in leg.bindings.items()}
