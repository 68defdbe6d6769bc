"""F&O's ``$metadata``: the CSDL document of ``/data``, shaped as F&O writes it.

One ``Schema`` in namespace ``Microsoft.Dynamics.DataEntities`` holding the enums as
``EnumType`` (members with their values: ``NoYes`` is ``No`` = 0, ``Yes`` = 1), one
``EntityType`` per public entity (named by its public entity name, ``CustomerV2``) with its
``Key``, and the ``EntityContainer`` ``Resources`` (the name F&O's generated OData clients take
their context class from) with one ``EntitySet`` per collection (``CustomersV2``).

Properties carry ``Type``, ``MaxLength`` for strings, and ``Nullable="false"`` where F&O writes
it: on key properties and on every property of an X++ value type (enums, integers, reals, dates
and times), which have no null. Being *mandatory* is not in F&O's CSDL (it is ``IsMandatory`` in
the ``/Metadata`` service), and F&O writes no ``Org.OData.Core.V1`` / ``Capabilities``
annotations about required or computed properties, nor Dataverse's alternate keys or change
tracking, so none are written here.

See https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
("Metadata annotations": EnumType in ``$metadata``; "Using Enums": namespace
``Microsoft.Dynamics.DataEntities``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from integrator.connectors.base import FieldType
from integrator.sandbox.http.csdl import EDM, EDMX, add_enum_types
from integrator.sandbox.http.model import Property, ServedService, ServedSet

__all__ = ["CONTAINER_NAME", "finops_metadata_xml"]


#: the EntityContainer F&O declares
CONTAINER_NAME = "Resources"

_EDM_TYPES: dict[FieldType, str] = {
    "string": "Edm.String",
    "integer": "Edm.Int32",
    "decimal": "Edm.Decimal",
    "boolean": "Edm.Int32",
    "datetime": "Edm.DateTimeOffset",
    "guid": "Edm.Guid",
    "lookup": "Edm.Guid",
    "enum": "Edm.String",
}
#: X++ value types: never null, so F&O marks them Nullable="false"
_VALUE_TYPES: frozenset[FieldType] = frozenset(
    {"integer", "decimal", "boolean", "datetime", "enum"}
)


def _property(entity_type: ET.Element, served: ServedSet, prop: Property, namespace: str) -> None:
    definition = prop.definition
    attrs = {"Name": prop.name}
    if prop.type == "enum" and definition is not None and definition.enum_type:
        attrs["Type"] = f"{namespace}.{definition.enum_type}"
    else:
        attrs["Type"] = _EDM_TYPES[prop.type]
    if prop.name in served.key or prop.type in _VALUE_TYPES:
        attrs["Nullable"] = "false"
    if prop.type == "string" and prop.max_length is not None:
        attrs["MaxLength"] = str(prop.max_length)
    if prop.type == "decimal":
        attrs["Precision"], attrs["Scale"] = "32", "6"
    ET.SubElement(entity_type, "Property", attrs)


def finops_metadata_xml(service: ServedService) -> bytes:
    """The CSDL (OData v4 EDMX) document of an F&O service, as F&O shapes it."""
    namespace = service.service.namespace
    root = ET.Element("edmx:Edmx", {"xmlns:edmx": EDMX, "Version": "4.0"})
    services = ET.SubElement(root, "edmx:DataServices")
    schema = ET.SubElement(services, "Schema", {"xmlns": EDM, "Namespace": namespace})
    add_enum_types(schema, service)
    for served in service.sets.values():
        entity_type = ET.SubElement(schema, "EntityType", Name=served.entity_set.entity_type)
        key = ET.SubElement(entity_type, "Key")
        for name in served.key:
            ET.SubElement(key, "PropertyRef", Name=name)
        for prop in served.properties.values():
            _property(entity_type, served, prop, namespace)
    container = ET.SubElement(schema, "EntityContainer", Name=CONTAINER_NAME)
    for served in service.sets.values():
        ET.SubElement(
            container,
            "EntitySet",
            Name=served.name,
            EntityType=f"{namespace}.{served.entity_set.entity_type}",
        )
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
