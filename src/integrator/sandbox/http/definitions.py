"""Table definitions as Dataverse serves them (``EntityMetadata``, ``AttributeMetadata``,
``EntityKeyMetadata``, option sets), built once from a service's description in ``schema.py``.

Every definition is a plain JSON-ready ``dict`` with Dataverse's property names; the query layer
(:mod:`.entity_definitions`) selects, filters and expands them. Shapes follow Microsoft's Web
API metadata entity type reference (``webapi/reference/entitymetadata``,
``.../attributemetadata``, ``.../stringattributemetadata``, ``.../picklistattributemetadata``,
``.../lookupattributemetadata``, ``.../booleanattributemetadata``, ``.../entitykeymetadata``,
``.../optionsetmetadata``, ``.../label``) and the examples in
``powerapps-docs/developer/data-platform/webapi/query-metadata-web-api.md``.

``MetadataId`` values are UUID5s of the service, entity and attribute names, so they stay the
same across restarts and data directories (Dataverse's own ids are stable per definition too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from integrator.sandbox.http.definitions_labels import (
    APPLICATION_REQUIRED,
    OBJECT_TYPE_CODES,
    OPTION_LABELS,
    SCHEMA_NAMES,
    STATUS_OF_STATE,
    label,
    managed,
    metadata_id,
    words,
)
from integrator.sandbox.http.definitions_relationships import relationships
from integrator.sandbox.schema import Column, EntitySet, Lookup, Service

__all__ = [
    "AttributeDefinition",
    "EntityDefinition",
    "ServiceDefinitions",
    "label",
    "metadata_id",
]


@dataclass
class AttributeDefinition:
    """One attribute: its type name (``StringAttributeMetadata``), properties, option set."""

    type_name: str
    properties: dict[str, Any]
    #: ``OptionSet`` for Picklist/State/Status/Boolean/EntityName attributes, else ``None``
    option_set: dict[str, Any] | None = None

    @property
    def logical_name(self) -> str:
        """The attribute's logical name."""
        name: str = self.properties["LogicalName"]
        return name


@dataclass
class EntityDefinition:
    """One table: its ``EntityMetadata`` properties, attributes in order, and alternate keys."""

    properties: dict[str, Any]
    attributes: list[AttributeDefinition] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)
    #: relationships where this table holds the lookup / is the lookup's target
    many_to_one: list[dict[str, Any]] = field(default_factory=list)
    one_to_many: list[dict[str, Any]] = field(default_factory=list)

    @property
    def logical_name(self) -> str:
        """The table's logical name (``contact``)."""
        name: str = self.properties["LogicalName"]
        return name

    @property
    def metadata_id(self) -> str:
        """The table's ``MetadataId``."""
        value: str = self.properties["MetadataId"]
        return value

    def attribute(self, logical_name: str) -> AttributeDefinition | None:
        """The attribute named ``logical_name``, or ``None``."""
        for attribute in self.attributes:
            if attribute.logical_name == logical_name:
                return attribute
        return None


class _EntityBuilder:
    """Builds one :class:`EntityDefinition` from an entity set's description."""

    def __init__(self, service: Service, entity_set: EntitySet) -> None:
        self.service = service
        self.es = entity_set
        self.entity = entity_set.entity_type
        #: Dataverse tables have one GUID primary key; the seed's CDS 1.0 tables use two columns
        self.primary_id = entity_set.key[-1]
        self.primary_name = self._primary_name()

    def _id(self, *parts: str) -> str:
        return metadata_id(self.service.name, self.entity, *parts)

    def _schema_name(self, logical_name: str) -> str:
        if logical_name in SCHEMA_NAMES:
            return SCHEMA_NAMES[logical_name]
        return logical_name[:1].upper() + logical_name[1:]

    def _primary_name(self) -> str | None:
        names = {c.name.lower(): c.name for c in self.es.columns if c.type == "string"}
        for candidate in ("fullname", "name", "organizationname"):
            if candidate in names:
                return names[candidate]
        return None

    def build(self) -> EntityDefinition:
        schema_name = self._schema_name(self.entity)
        display = words(schema_name)
        properties: dict[str, Any] = {
            "MetadataId": self._id(),
            "LogicalName": self.entity,
            "SchemaName": schema_name,
            "EntitySetName": self.es.name,
            "LogicalCollectionName": self.es.name,
            "CollectionSchemaName": schema_name + "s",
            "PrimaryIdAttribute": self.primary_id,
            "PrimaryNameAttribute": self.primary_name,
            "ObjectTypeCode": OBJECT_TYPE_CODES.get(self.entity, 10000),
            "DisplayName": label(display, self.service.name, self.entity, "display"),
            "DisplayCollectionName": label(
                display + "s", self.service.name, self.entity, "collection"
            ),
            "Description": label(None),
            "IsCustomEntity": self.entity not in OBJECT_TYPE_CODES,
            "IsManaged": True,
            "IsPrivate": False,
            "IsActivity": False,
            "IsIntersect": False,
            "IsLogicalEntity": False,
            "IsValidForAdvancedFind": True,
            "ChangeTrackingEnabled": self.es.change_tracking,
            "OwnershipType": "OrganizationOwned" if self.entity == "organization" else "UserOwned",
            "CanCreateAttributes": managed(True, "cancreateattributes"),
            "IsCustomizable": managed(True, "iscustomizableanddeletable"),
            "HasChanged": None,
            "IntroducedVersion": "5.0.0.0",
        }
        definition = EntityDefinition(properties)
        lookup_columns = {lk.column for lk in self.es.lookups}
        lookup_columns |= {lk.type_column for lk in self.es.lookups if lk.type_column}
        for column in self.es.columns:
            if column.name in lookup_columns or column.type == "lookup":
                continue
            definition.attributes.append(self._attribute(column))
        for lookup in self.es.lookups:
            definition.attributes.extend(self._lookup(lookup))
        for alternate in self.es.alternate_keys:
            definition.keys.append(self._key(alternate))
        return definition

    # -- attributes ----------------------------------------------------------------------------

    def _base(self, logical_name: str, attribute_type: str, type_display: str) -> dict[str, Any]:
        schema_name = self._schema_name(logical_name)
        return {
            "MetadataId": self._id(logical_name),
            "LogicalName": logical_name,
            "SchemaName": schema_name,
            "EntityLogicalName": self.entity,
            "AttributeType": attribute_type,
            "AttributeTypeName": {"Value": type_display},
            "AttributeOf": None,
            "DisplayName": label(words(schema_name), self.service.name, self.entity, logical_name),
            "Description": label(None),
            "RequiredLevel": managed("None", "canmodifyrequirementlevelsettings", can_change=True),
            "IsValidForCreate": True,
            "IsValidForUpdate": True,
            "IsValidForRead": True,
            "IsValidODataAttribute": True,
            "IsPrimaryId": False,
            "IsPrimaryName": False,
            "IsCustomAttribute": logical_name.startswith("msdynce_"),
            "IsLogical": False,
            "IsManaged": True,
            "IsFilterable": True,
            "IsSearchable": True,
            "IsRetrievable": True,
            "IsSecured": False,
            "IsValidForAdvancedFind": managed(True, "canmodifysearchsettings", can_change=True),
            "SourceType": 0,
            "HasChanged": None,
            "IntroducedVersion": "5.0.0.0",
        }

    def _attribute(self, column: Column) -> AttributeDefinition:
        name = column.name
        if name == "statecode":
            return self._state(column)
        if column.type == "string":
            base = self._base(name, "String", "StringType")
            base.update(
                MaxLength=column.max_length,
                DatabaseLength=(column.max_length or 0) * 2,
                Format="Text",
                FormatName={"Value": "Text"},
                ImeMode="Auto",
                IsLocalizable=False,
            )
            type_name = "StringAttributeMetadata"
        elif column.type == "guid":
            base = self._base(name, "Uniqueidentifier", "UniqueidentifierType")
            type_name = "UniqueIdentifierAttributeMetadata"
        elif column.type == "boolean":
            return self._boolean(column)
        elif column.type == "datetime":
            base = self._base(name, "DateTime", "DateTimeType")
            base.update(Format="DateAndTime", DateTimeBehavior={"Value": "UserLocal"})
            type_name = "DateTimeAttributeMetadata"
        elif column.type == "decimal":
            base = self._base(name, "Decimal", "DecimalType")
            base.update(Precision=2, MinValue=-100000000000.0, MaxValue=100000000000.0)
            type_name = "DecimalAttributeMetadata"
        elif column.type == "integer" and name == "versionnumber":
            base = self._base(name, "BigInt", "BigIntType")
            base.update(MinValue=-9223372036854775808, MaxValue=9223372036854775807)
            type_name = "BigIntAttributeMetadata"
        elif column.type == "integer" and column.options:
            return self._picklist(column, column.options)
        elif column.type == "enum" and column.enum_values:
            return self._picklist(column, tuple(range(len(column.enum_values))))
        else:
            base = self._base(name, "Integer", "IntegerType")
            base.update(Format="None", MinValue=-2147483648, MaxValue=2147483647)
            type_name = "IntegerAttributeMetadata"
        self._apply_rules(base, column)
        return AttributeDefinition(type_name, base)

    def _apply_rules(self, base: dict[str, Any], column: Column) -> None:
        name = column.name
        if name == self.primary_id:
            base.update(IsPrimaryId=True, IsValidForUpdate=False)
            base["RequiredLevel"]["Value"] = "SystemRequired"
            base["RequiredLevel"]["CanBeChanged"] = False
        elif column.required or name in self.es.key:
            base["RequiredLevel"]["Value"] = "SystemRequired"
        elif (self.service.name, self.entity, name) in APPLICATION_REQUIRED:
            base["RequiredLevel"]["Value"] = "ApplicationRequired"
        if name == self.primary_name:
            base["IsPrimaryName"] = True
        if column.read_only:
            base.update(IsValidForCreate=False, IsValidForUpdate=False)

    def _option(self, column: str, value: int, text: str) -> dict[str, Any]:
        return {
            "Value": value,
            "Label": label(text, self.service.name, self.entity, column, str(value)),
            "Description": label(None),
            "Color": None,
            "IsManaged": True,
            "ExternalValue": None,
            "MetadataId": None,
            "HasChanged": None,
        }

    def _option_set(self, column: Column, kind: str, **extra: Any) -> dict[str, Any]:
        schema_name = self._schema_name(column.name)
        return {
            "MetadataId": self._id(column.name, "optionset"),
            "Name": f"{self.entity}_{column.name}",
            "OptionSetType": kind,
            "IsGlobal": False,
            "IsCustomOptionSet": column.name.startswith("msdynce_"),
            "IsManaged": True,
            "DisplayName": label(
                words(schema_name), self.service.name, self.entity, column.name, "set"
            ),
            "Description": label(None),
            "IsCustomizable": managed(True, "iscustomizable"),
            "IntroducedVersion": "5.0.0.0",
            "HasChanged": None,
            **extra,
        }

    def _picklist(self, column: Column, values: tuple[int, ...]) -> AttributeDefinition:
        base = self._base(column.name, "Picklist", "PicklistType")
        base.update(DefaultFormValue=-1, SourceTypeMask=0)
        self._apply_rules(base, column)
        labels = OPTION_LABELS.get(column.name, {})
        if column.enum_values:  # the seed's CDS 1.0 enums: labels are the member names
            labels = dict(enumerate(column.enum_values))
        options = [self._option(column.name, v, labels.get(v, str(v))) for v in values]
        option_set = self._option_set(column, "Picklist", Options=options)
        return AttributeDefinition("PicklistAttributeMetadata", base, option_set)

    def _state(self, column: Column) -> AttributeDefinition:
        base = self._base(column.name, "State", "StateType")
        base["RequiredLevel"] = managed("SystemRequired", "canmodifyrequirementlevelsettings")
        base.update(IsValidForCreate=False, DefaultFormValue=None)
        labels = OPTION_LABELS["statecode"]
        options = []
        for value in column.options or (0, 1):
            option = self._option(column.name, value, labels.get(value, str(value)))
            option["@odata.type"] = "#Microsoft.Dynamics.CRM.StateOptionMetadata"
            option.update(
                DefaultStatus=STATUS_OF_STATE.get(value, value + 1),
                InvariantName=labels.get(value, str(value)),
            )
            options.append(option)
        option_set = self._option_set(column, "State", Options=options)
        return AttributeDefinition("StateAttributeMetadata", base, option_set)

    def _boolean(self, column: Column) -> AttributeDefinition:
        base = self._base(column.name, "Boolean", "BooleanType")
        base["DefaultValue"] = False
        self._apply_rules(base, column)
        option_set = self._option_set(
            column,
            "Boolean",
            TrueOption=self._option(column.name, 1, "Yes"),
            FalseOption=self._option(column.name, 0, "No"),
        )
        return AttributeDefinition("BooleanAttributeMetadata", base, option_set)

    def _lookup(self, lookup: Lookup) -> list[AttributeDefinition]:
        polymorphic = len(lookup.targets) > 1
        base = self._base(
            lookup.name,
            "Customer" if polymorphic else "Lookup",
            "CustomerType" if polymorphic else "LookupType",
        )
        base.update(Targets=list(lookup.targets), Format="None")
        attributes = [AttributeDefinition("LookupAttributeMetadata", base)]
        # Dataverse adds the lookup's target name and table as attributes of their own
        name = self._base(f"{lookup.name}name", "String", "StringType")
        name.update(
            AttributeOf=lookup.name,
            IsValidForCreate=False,
            IsValidForUpdate=False,
            IsValidODataAttribute=False,
            IsLogical=True,
            MaxLength=160,
            DatabaseLength=320,
            Format="Text",
            FormatName={"Value": "Text"},
        )
        attributes.append(AttributeDefinition("StringAttributeMetadata", name))
        if lookup.type_column:
            kind = self._base(lookup.type_column, "EntityName", "EntityNameType")
            kind.update(
                AttributeOf=lookup.name,
                IsValidODataAttribute=False,
                IsLogical=True,
                DefaultFormValue=None,
            )
            attributes.append(AttributeDefinition("EntityNameAttributeMetadata", kind))
        return attributes

    def _key(self, columns: tuple[str, ...]) -> dict[str, Any]:
        logical_name = "_".join(columns) + "_key"
        schema_name = "".join(self._schema_name(c) for c in columns) + "Key"
        return {
            "MetadataId": self._id("key", *columns),
            "LogicalName": logical_name,
            "SchemaName": schema_name,
            "EntityLogicalName": self.entity,
            "KeyAttributes": list(columns),
            "EntityKeyIndexStatus": "Active",
            "DisplayName": label(
                " ".join(words(self._schema_name(c)) for c in columns),
                self.service.name,
                self.entity,
                "key",
                *columns,
            ),
            "IsManaged": True,
            "IsCustomizable": managed(True, "iscustomizable"),
            "IsSecondaryKey": False,
            "IsExportKey": False,
            "IsSynchronous": False,
            "AsyncJob": None,
            "IntroducedVersion": "1.0",
            "HasChanged": None,
        }


@dataclass
class ServiceDefinitions:
    """Every table definition of one Dataverse-flavoured service, by logical name."""

    entities: dict[str, EntityDefinition]
    #: every relationship (``RelationshipDefinitions``)
    relationships: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def build(cls, service: Service) -> ServiceDefinitions:
        """The definitions of ``service``'s entity sets."""
        entities = {}
        for entity_set in service.entity_sets:
            definition = _EntityBuilder(service, entity_set).build()
            entities[definition.logical_name] = definition
        all_relationships = relationships(service, metadata_id)
        for relationship in all_relationships:
            entities[relationship["ReferencingEntity"]].many_to_one.append(relationship)
            entities[relationship["ReferencedEntity"]].one_to_many.append(relationship)
        return cls(entities, all_relationships)

    def by_id(self, metadata_id: str) -> EntityDefinition | None:
        """The table whose ``MetadataId`` is ``metadata_id`` (any case), or ``None``."""
        wanted = metadata_id.lower()
        for entity in self.entities.values():
            if entity.metadata_id == wanted:
                return entity
        return None
