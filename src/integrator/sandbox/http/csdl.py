"""What the sandbox's two CSDL writers (Dataverse's and F&O's ``$metadata``) share."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from integrator.sandbox.http.model import ServedService

__all__ = ["EDM", "EDMX", "add_enum_types"]

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"


def add_enum_types(schema: ET.Element, service: ServedService) -> None:
    """One ``EnumType`` under ``schema`` per enum the service's columns use (each once), its
    members numbered in the order the column lists them."""
    seen: set[str] = set()
    for served in service.sets.values():
        for column in served.entity_set.columns:
            if column.type != "enum" or not column.enum_type or column.enum_type in seen:
                continue
            seen.add(column.enum_type)
            enum = ET.SubElement(schema, "EnumType", Name=column.enum_type)
            for value, member in enumerate(column.enum_values or ()):
                ET.SubElement(enum, "Member", Name=member, Value=str(value))
