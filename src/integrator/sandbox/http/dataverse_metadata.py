"""``$metadata`` of a Dataverse-flavoured service (Sales, CDS), shaped as Dataverse writes it.

Following ``powerapps-docs/developer/data-platform/webapi/web-api-service-documents.md`` and
``.../web-api-types-operations.md``, ``.../web-api-properties.md``,
``.../web-api-navigation-properties.md``:

- references to the ``OData.Community.Keys.V1`` (alias ``Keys``) and
  ``OData.Community.Display.V1`` (alias ``Display``) vocabularies;
- one schema ``Microsoft.Dynamics.CRM`` with alias ``mscrm``; an abstract ``crmbaseentity`` that
  every entity type derives from;
- per entity type: its ``Key``; properties with their EDM type only (strings carry
  ``Unicode="false"``; Dataverse writes no ``MaxLength`` and no ``Nullable`` on them, and no
  required or computed annotations: those live in ``EntityDefinitions``); lookups as
  ``_<name>_value`` ``Edm.Guid`` properties and one single-valued navigation property per target
  with a ``ReferentialConstraint``; alternate keys as an ``OData.Community.Keys.V1.AlternateKeys``
  annotation of ``OData.Community.Keys.V1.AlternateKey`` records whose ``Key`` holds
  ``OData.Community.Keys.V1.PropertyRef`` records (``Alias``, ``Name``);
- option sets are ``Edm.Int32`` (their options live in ``EntityDefinitions``); the seed's CDS
  1.0 enum fields stay ``EnumType``\\ s, as the CDS 1.0 model the seed describes has them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from integrator.sandbox.http.bulk import bulk_action_elements
from integrator.sandbox.http.csdl import EDM, EDMX, add_enum_types
from integrator.sandbox.http.model import Property, ServedService, ServedSet

__all__ = ["dataverse_metadata_xml"]

_VOCABULARIES = (
    (
        "http://vocabularies.odata.org/OData.Community.Keys.V1.xml",
        "OData.Community.Keys.V1",
        "Keys",
    ),
    (
        "http://vocabularies.odata.org/OData.Community.Display.V1.xml",
        "OData.Community.Display.V1",
        "Display",
    ),
)
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
_BASE_ENTITY = "crmbaseentity"


def _edm_type(served: ServedSet, prop: Property) -> str:
    definition = prop.definition
    if prop.type == "enum" and definition is not None and definition.enum_type:
        return f"mscrm.{definition.enum_type}"
    if prop.name == "versionnumber":
        return "Edm.Int64"
    return _EDM_TYPES[prop.type]


def _alternate_keys(etype: ET.Element, served: ServedSet) -> None:
    keys = ET.SubElement(etype, "Annotation", Term="OData.Community.Keys.V1.AlternateKeys")
    collection = ET.SubElement(keys, "Collection")
    for alternate in served.entity_set.alternate_keys:
        record = ET.SubElement(collection, "Record", Type="OData.Community.Keys.V1.AlternateKey")
        value = ET.SubElement(record, "PropertyValue", Property="Key")
        parts = ET.SubElement(value, "Collection")
        for name in alternate:
            part = ET.SubElement(parts, "Record", Type="OData.Community.Keys.V1.PropertyRef")
            ET.SubElement(part, "PropertyValue", Property="Alias", String=name)
            ET.SubElement(part, "PropertyValue", Property="Name", PropertyPath=name)


def _entity_type(schema: ET.Element, served: ServedSet) -> None:
    etype = ET.SubElement(
        schema,
        "EntityType",
        Name=served.entity_set.entity_type,
        BaseType=f"mscrm.{_BASE_ENTITY}",
    )
    key = ET.SubElement(etype, "Key")
    for name in served.key:
        ET.SubElement(key, "PropertyRef", Name=name)
    for prop in served.properties.values():
        attrs = {"Name": prop.name, "Type": _edm_type(served, prop)}
        if attrs["Type"] == "Edm.String":
            attrs["Unicode"] = "false"
        ET.SubElement(etype, "Property", attrs)
    for nav in served.navigations.values():
        element = ET.SubElement(
            etype,
            "NavigationProperty",
            Name=nav.name,
            Type=f"mscrm.{nav.target.entity_set.entity_type}",
            Nullable="false",
        )
        ET.SubElement(
            element,
            "ReferentialConstraint",
            Property=f"_{nav.lookup.name}_value",
            ReferencedProperty=nav.target.key[0],
        )
    if served.entity_set.alternate_keys:
        _alternate_keys(etype, served)


def dataverse_metadata_xml(service: ServedService) -> bytes:
    """The CSDL document of a Dataverse-flavoured ``service``, as Dataverse shapes it."""
    ns = service.service.namespace
    root = ET.Element("edmx:Edmx", {"xmlns:edmx": EDMX, "Version": "4.0"})
    for uri, namespace, alias in _VOCABULARIES:
        reference = ET.SubElement(root, "edmx:Reference", Uri=uri)
        ET.SubElement(reference, "edmx:Include", Namespace=namespace, Alias=alias)
        ET.SubElement(reference, "edmx:IncludeAnnotations", TermNamespace=namespace)
    services = ET.SubElement(root, "edmx:DataServices")
    schema = ET.SubElement(services, "Schema", {"xmlns": EDM, "Namespace": ns, "Alias": "mscrm"})
    add_enum_types(schema, service)
    ET.SubElement(schema, "EntityType", Name=_BASE_ENTITY, Abstract="true")
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
            tracking = ET.SubElement(
                eset, "Annotation", Term="Org.OData.Capabilities.V1.ChangeTracking"
            )
            record = ET.SubElement(tracking, "Record")
            ET.SubElement(record, "PropertyValue", Property="Supported", Bool="true")
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
