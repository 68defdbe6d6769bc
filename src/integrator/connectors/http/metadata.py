"""Read an OData service's ``$metadata`` (CSDL XML) into :class:`EntitySetMetadata`.

For each entity set: its fields with types, lengths and whether they are required or read-only,
its key, its alternate keys (Dataverse's ``OData.Community.Keys.V1.AlternateKeys``
annotation), its enum fields with their type names, and its single-valued navigation
properties. A Dataverse lookup property ``_parentcustomerid_value`` is presented as the field
``parentcustomerid`` (type ``lookup``), as the connector protocol names lookups.

Required and read-only come from ``Org.OData.Core.V1.Required``/``Computed`` annotations and
non-nullable properties where a service writes them. Dataverse writes neither (see
``powerapps-docs/developer/data-platform/webapi/web-api-properties.md``): the Dataverse connector
replaces them, and lengths, options and alternate keys, with what ``EntityDefinitions`` says
(:mod:`integrator.connectors.dataverse.metadata`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from integrator.connectors.base import EntityInfo, FieldInfo, FieldType
from integrator.errors import BadResponseError

__all__ = ["EntitySetMetadata", "Navigation", "ServiceMetadata", "parse_metadata"]

_EDM_TYPES: dict[str, FieldType] = {
    "Edm.String": "string",
    "Edm.Int16": "integer",
    "Edm.Int32": "integer",
    "Edm.Int64": "integer",
    "Edm.Byte": "integer",
    "Edm.SByte": "integer",
    "Edm.Decimal": "decimal",
    "Edm.Double": "decimal",
    "Edm.Single": "decimal",
    "Edm.Boolean": "boolean",
    "Edm.DateTimeOffset": "datetime",
    "Edm.Date": "datetime",
    "Edm.TimeOfDay": "string",
    "Edm.Guid": "guid",
}
_LOOKUP_PROPERTY = re.compile(r"^_(?P<name>\w+)_value$")
#: Dataverse writes ``OData.Community.Keys.V1.AlternateKeys``; OData 4.01 ``Core.V1.AlternateKeys``
_ALTERNATE_KEYS = ("OData.Community.Keys.V1.AlternateKeys", "Org.OData.Core.V1.AlternateKeys")
_REQUIRED_TERMS = {"Org.OData.Core.V1.Required", "Core.Required"}
_READ_ONLY_TERMS = {"Org.OData.Core.V1.Computed", "Core.Computed", "Org.OData.Core.V1.Immutable"}


@dataclass(frozen=True)
class Navigation:
    """A single-valued navigation property: ``parentcustomerid_account`` → entity type."""

    name: str
    target_type: str
    #: the lookup it follows (``parentcustomerid``), when known
    lookup: str | None


@dataclass(frozen=True)
class EntitySetMetadata:
    """One entity set as ``$metadata`` describes it."""

    info: EntityInfo
    entity_type: str
    #: field name as presented → OData property name (differs for lookups only)
    properties: dict[str, str]
    #: field name → qualified enum type name (``Microsoft.Dynamics.DataEntities.NoYes``)
    enum_types: dict[str, str] = field(default_factory=dict)
    navigations: tuple[Navigation, ...] = ()

    def navigations_of(self, lookup: str) -> list[Navigation]:
        """The navigation properties that follow lookup ``lookup``."""
        return [n for n in self.navigations if n.lookup == lookup]

    def types(self) -> dict[str, FieldType]:
        """Field name → type, for building literals."""
        return {name: f.type for name, f in self.info.fields.items()}


@dataclass(frozen=True)
class ServiceMetadata:
    """Every entity set of a service, and entity type name → entity set name."""

    entity_sets: dict[str, EntitySetMetadata]
    set_of_type: dict[str, str]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


class _Schema:
    """Entity and enum types of all schemas, by qualified and alias-qualified name."""

    def __init__(self, root: ET.Element) -> None:
        self.entity_types: dict[str, ET.Element] = {}
        self.enum_types: dict[str, ET.Element] = {}
        self.aliases: dict[str, str] = {}
        self.containers: list[tuple[str, ET.Element]] = []
        for schema in root.iter():
            if _local(schema.tag) != "Schema":
                continue
            namespace = schema.get("Namespace", "")
            alias = schema.get("Alias")
            if alias:
                self.aliases[alias] = namespace
            for child in schema:
                kind = _local(child.tag)
                name = f"{namespace}.{child.get('Name')}"
                if kind == "EntityType":
                    self.entity_types[name] = child
                elif kind == "EnumType":
                    self.enum_types[name] = child
                elif kind == "EntityContainer":
                    self.containers.append((namespace, child))

    def qualify(self, name: str) -> str:
        prefix, dot, rest = name.rpartition(".")
        if dot and prefix in self.aliases:
            return f"{self.aliases[prefix]}.{rest}"
        return name

    def lineage(self, type_name: str) -> list[ET.Element]:
        chain: list[ET.Element] = []
        seen: set[str] = set()
        current: str | None = self.qualify(type_name)
        while current and current in self.entity_types and current not in seen:
            seen.add(current)
            element = self.entity_types[current]
            chain.append(element)
            base = element.get("BaseType")
            current = self.qualify(base) if base else None
        return list(reversed(chain))


def _alternate_keys(element: ET.Element) -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = []
    for annotation in _children(element, "Annotation"):
        if annotation.get("Term") not in _ALTERNATE_KEYS:
            continue
        for record in annotation.iter():
            if _local(record.tag) != "Record" or not record.get("Type", "").endswith(
                "AlternateKey"
            ):
                continue
            names = [
                value.get("PropertyPath") or ""
                for value in record.iter()
                if _local(value.tag) == "PropertyValue" and value.get("Property") == "Name"
            ]
            if names and all(names):
                keys.append(tuple(names))
    return keys


def _annotated(element: ET.Element, terms: set[str]) -> bool:
    return any(
        a.get("Term") in terms and a.get("Bool", "true") == "true"
        for a in _children(element, "Annotation")
    )


def _entity_set(schema: _Schema, set_name: str, type_name: str) -> EntitySetMetadata:
    fields: dict[str, FieldInfo] = {}
    properties: dict[str, str] = {}
    enum_types: dict[str, str] = {}
    navigations: list[Navigation] = []
    key: tuple[str, ...] = ()
    alternate: list[tuple[str, ...]] = []
    lineage = schema.lineage(type_name)
    for element in lineage:
        for key_element in _children(element, "Key"):
            key = tuple(ref.get("Name", "") for ref in _children(key_element, "PropertyRef"))
        alternate.extend(_alternate_keys(element))
    lookup_targets: dict[str, list[str]] = {}
    for element in lineage:
        for nav in _children(element, "NavigationProperty"):
            nav_type = nav.get("Type", "")
            if nav_type.startswith("Collection("):
                continue
            lookup = None
            for constraint in _children(nav, "ReferentialConstraint"):
                match = _LOOKUP_PROPERTY.match(constraint.get("Property", ""))
                if match:
                    lookup = match.group("name")
            target = schema.qualify(nav_type)
            navigations.append(Navigation(nav.get("Name", ""), target, lookup))
            if lookup:
                lookup_targets.setdefault(lookup, []).append(target.rpartition(".")[2])
    for element in lineage:
        for prop in _children(element, "Property"):
            name = prop.get("Name", "")
            edm = prop.get("Type", "Edm.String")
            type_: FieldType = _EDM_TYPES.get(edm, "string")
            presented = name
            match = _LOOKUP_PROPERTY.match(name)
            if match:
                presented = match.group("name")
                type_ = "lookup"
            enum_values: tuple[str, ...] | None = None
            qualified = schema.qualify(edm)
            if qualified in schema.enum_types:
                type_ = "enum"
                enum_types[presented] = qualified
                enum_values = tuple(
                    m.get("Name", "") for m in _children(schema.enum_types[qualified], "Member")
                )
            max_length = prop.get("MaxLength")
            nullable = prop.get("Nullable", "true") == "true"
            fields[presented] = FieldInfo(
                name=presented,
                type=type_,
                max_length=int(max_length) if max_length and max_length.isdigit() else None,
                # Keys are non-nullable but often generated (contactid): required only when
                # annotated so, or when a non-key property cannot be null.
                required=_annotated(prop, _REQUIRED_TERMS) or (not nullable and name not in key),
                read_only=_annotated(prop, _READ_ONLY_TERMS),
                enum_values=enum_values,
                lookup_targets=tuple(lookup_targets.get(presented, ())),
            )
            properties[presented] = name
    info = EntityInfo(
        name=set_name, fields=fields, key=key, alternate_keys=tuple(dict.fromkeys(alternate))
    )
    return EntitySetMetadata(
        info=info,
        entity_type=schema.qualify(type_name),
        properties=properties,
        enum_types=enum_types,
        navigations=tuple(navigations),
    )


def parse_metadata(xml: bytes, *, url: str) -> ServiceMetadata:
    """Parse a CSDL document; ``BadResponseError`` naming ``url`` when it is not one."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        snippet = xml[:60].decode("utf-8", "replace").strip()
        raise BadResponseError(
            f"GET {url}: $metadata is not well-formed XML ({exc}): {snippet!r}"
        ) from None
    if _local(root.tag) != "Edmx":
        raise BadResponseError(f"GET {url}: $metadata is not a CSDL (Edmx) document")
    schema = _Schema(root)
    entity_sets: dict[str, EntitySetMetadata] = {}
    set_of_type: dict[str, str] = {}
    for _namespace, container in schema.containers:
        for entity_set in _children(container, "EntitySet"):
            set_name = entity_set.get("Name", "")
            type_name = schema.qualify(entity_set.get("EntityType", ""))
            if type_name not in schema.entity_types:
                continue
            entity_sets[set_name] = _entity_set(schema, set_name, type_name)
            set_of_type.setdefault(type_name, set_name)
            set_of_type.setdefault(type_name.rpartition(".")[2], set_name)
    if not entity_sets:
        raise BadResponseError(f"GET {url}: $metadata describes no entity sets")
    return ServiceMetadata(entity_sets=entity_sets, set_of_type=set_of_type)
