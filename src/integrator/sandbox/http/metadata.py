"""``$metadata``: the CSDL XML document describing a service's entity sets.

Per entity type: ``Key``, properties with ``Type``, ``Nullable`` and ``MaxLength``, navigation
properties for lookups, the alternate keys as an ``Org.OData.Core.V1.AlternateKeys`` annotation
(Dataverse's style), read-only properties as ``Org.OData.Core.V1.Computed``, and required
properties both as ``Nullable="false"`` with an ``Org.OData.Core.V1.Required`` annotation on
the property and as ``Org.OData.Capabilities.V1.InsertRestrictions/RequiredProperties`` on the
entity set. F&O enums are ``EnumType`` declarations.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from integrator.sandbox.http.bulk import bulk_action_elements
from integrator.sandbox.http.model import Property, ServedService, ServedSet

__all__ = ["metadata_xml"]

_EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
_EDM = "http://docs.oasis-open.org/odata/ns/edm"

_EDM_TYPES = {
    "string": "Edm.String",
    "integer": "Edm.Int32",
    "decimal": "Edm.Decimal",
    "boolean": "Edm.Boolean",
    "datetime": "Edm.DateTimeOffset",
    "guid": "Edm.Guid",
    "lookup": "Edm.Guid",
    "enum": "Edm.String",
}


def _edm_type(served: ServedSet, prop: Property) -> str:
    definition = prop.definition
    if prop.type == "enum" and definition is not None and definition.enum_type:
        return f"{served.service.namespace}.{definition.enum_type}"
    if prop.name == "versionnumber":
        return "Edm.Int64"
    return _EDM_TYPES[prop.type]


def _annotation(parent: ET.Element, term: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, "Annotation", {"Term": term, **attrs})


def _property_path_collection(parent: ET.Element, names: tuple[str, ...] | list[str]) -> None:
    collection = ET.SubElement(parent, "Collection")
    for name in names:
        ET.SubElement(collection, "PropertyPath").text = name


def _entity_type(schema: ET.Element, served: ServedSet) -> None:
    etype = ET.SubElement(schema, "EntityType", Name=served.entity_set.entity_type)
    key = ET.SubElement(etype, "Key")
    for name in served.key:
        ET.SubElement(key, "PropertyRef", Name=name)
    for prop in served.properties.values():
        attrs = {"Name": prop.name, "Type": _edm_type(served, prop)}
        required = bool(prop.definition and prop.definition.required) or prop.name in served.key
        if required:
            attrs["Nullable"] = "false"
        if prop.max_length is not None:
            attrs["MaxLength"] = str(prop.max_length)
        element = ET.SubElement(etype, "Property", attrs)
        if prop.definition is not None and prop.definition.required:
            _annotation(element, "Org.OData.Core.V1.Required", Bool="true")
        if prop.read_only:
            _annotation(element, "Org.OData.Core.V1.Computed", Bool="true")
        if prop.definition is not None and prop.definition.options:
            allowed = _annotation(element, "Org.OData.Validation.V1.AllowedValues")
            collection = ET.SubElement(allowed, "Collection")
            for option in prop.definition.options:
                record = ET.SubElement(collection, "Record")
                ET.SubElement(record, "PropertyValue", Property="Value", Int=str(option))
        if prop.lookup is not None:
            _annotation(
                element,
                "Microsoft.Dynamics.CRM.LookupTargets",
                String=",".join(prop.lookup.targets),
            )
    for nav in served.navigations.values():
        element = ET.SubElement(
            etype,
            "NavigationProperty",
            Name=nav.name,
            Type=f"{served.service.namespace}.{nav.target.entity_set.entity_type}",
            Nullable="true",
        )
        ET.SubElement(
            element,
            "ReferentialConstraint",
            Property=f"_{nav.lookup.name}_value",
            ReferencedProperty=nav.target.key[0],
        )
    if served.entity_set.alternate_keys:
        keys = _annotation(etype, "Org.OData.Core.V1.AlternateKeys")
        collection = ET.SubElement(keys, "Collection")
        for alternate in served.entity_set.alternate_keys:
            record = ET.SubElement(collection, "Record", Type="Org.OData.Core.V1.AlternateKey")
            value = ET.SubElement(record, "PropertyValue", Property="Key")
            parts = ET.SubElement(value, "Collection")
            for name in alternate:
                part = ET.SubElement(parts, "Record", Type="Org.OData.Core.V1.PropertyRef")
                ET.SubElement(part, "PropertyValue", Property="Name", PropertyPath=name)
                ET.SubElement(part, "PropertyValue", Property="Alias", String=name)


def _enum_types(schema: ET.Element, service: ServedService) -> None:
    seen: set[str] = set()
    for served in service.sets.values():
        for col in served.entity_set.columns:
            if col.type != "enum" or not col.enum_type or col.enum_type in seen:
                continue
            seen.add(col.enum_type)
            enum = ET.SubElement(schema, "EnumType", Name=col.enum_type)
            for i, member in enumerate(col.enum_values or ()):
                ET.SubElement(enum, "Member", Name=member, Value=str(i))


def metadata_xml(service: ServedService) -> bytes:
    """The CSDL (OData v4 EDMX) document for ``service``."""
    ns = service.service.namespace
    root = ET.Element("edmx:Edmx", {"xmlns:edmx": _EDMX, "Version": "4.0"})
    services = ET.SubElement(root, "edmx:DataServices")
    schema_attrs = {"xmlns": _EDM, "Namespace": ns}
    if service.service.flavor == "dataverse":
        schema_attrs["Alias"] = "mscrm"
    schema = ET.SubElement(services, "Schema", schema_attrs)
    _enum_types(schema, service)
    for served in service.sets.values():
        _entity_type(schema, served)
    container = ET.SubElement(schema, "EntityContainer", Name="System")
    for served in service.sets.values():
        eset = ET.SubElement(
            container,
            "EntitySet",
            Name=served.name,
            EntityType=f"{ns}.{served.entity_set.entity_type}",
        )
        for nav in served.navigations.values():
            ET.SubElement(eset, "NavigationPropertyBinding", Path=nav.name, Target=nav.target.name)
        if served.entity_set.change_tracking:
            tracking = _annotation(eset, "Org.OData.Capabilities.V1.ChangeTracking")
            record = ET.SubElement(tracking, "Record")
            ET.SubElement(record, "PropertyValue", Property="Supported", Bool="true")
        required = [
            c.name
            for c in served.entity_set.columns
            if c.required and not c.read_only and c.name in served.properties
        ]
        if required:
            restrictions = _annotation(eset, "Org.OData.Capabilities.V1.InsertRestrictions")
            record = ET.SubElement(restrictions, "Record")
            value = ET.SubElement(record, "PropertyValue", Property="RequiredProperties")
            _property_path_collection(value, required)
    if service.service.flavor == "dataverse":
        action = ET.SubElement(schema, "Action", Name="SetAutoNumberSeed")
        for name, type_ in (
            ("EntityName", "Edm.String"),
            ("AttributeName", "Edm.String"),
            ("Value", "Edm.Int64"),
        ):
            ET.SubElement(action, "Parameter", Name=name, Type=type_, Nullable="false")
        ET.SubElement(
            container, "ActionImport", Name="SetAutoNumberSeed", Action=f"{ns}.SetAutoNumberSeed"
        )
        bulk_action_elements(schema)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
