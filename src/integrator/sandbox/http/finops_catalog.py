"""What F&O's ``/Metadata`` service says about the sandbox's F&O entities, as JSON records.

F&O serves, beside its OData root ``/data``, a metadata service at ``/Metadata`` with the
collections ``DataEntities``, ``PublicEntities``, ``PublicEnumerations`` and ``Labels``. Its
records are built here from the same ``schema.py`` description the OData root serves, so the two
never disagree:

- ``DataEntities``: ``Name`` (the AOT name), ``PublicEntityName``, ``PublicCollectionName``,
  ``LabelId``, ``DataServiceEnabled``, ``DataManagementEnabled``, ``EntityCategory``,
  ``IsReadOnly``;
- ``PublicEntities`` (key ``Name``, the *public entity* name: ``CustomerV2``, not the entity set
  ``CustomersV2``): ``EntitySetName``, ``LabelId``, ``IsReadOnly``, ``ConfigurationEnabled`` and
  the collections ``Properties`` (``Name``, ``TypeName``, ``DataType``, ``LabelId``, ``IsKey``,
  ``IsMandatory``, ``ConfigurationEnabled``, ``AllowEdit``, ``AllowEditOnCreate``, the dimension
  fields), ``NavigationProperties``, ``PropertyGroups``, ``Actions``;
- ``PublicEnumerations`` (key ``Name``): ``LabelId`` and ``Members`` (``Name``, ``Value``,
  ``LabelId``, ``ConfigurationEnabled``);
- ``Labels`` (key ``Id`` and ``Language``): ``Value``.

``DataType`` takes F&O's ``ODataXppType`` names (``String``, ``Int32``, ``Int64``, ``Real``,
``Enum``, ``Guid``, ``UtcDateTime``, ...). Label ids, AOT names other than those Microsoft
documents, and the ``PartyType`` enum's values are the sandbox's own (see
``docs/sandbox-fidelity/fometa.md``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from integrator.connectors.base import FieldType
from integrator.sandbox.http.model import Property, ServedService, ServedSet
from integrator.sandbox.schema import Column

__all__ = ["LABEL_LANGUAGE", "FinOpsCatalog"]

#: the only language the sandbox's labels are written in
LABEL_LANGUAGE = "en-US"

ENUM_NAMESPACE = "Microsoft.Dynamics.DataEntities"

#: AOT names of the data entities behind the public entities; the first five are the names in
#: Microsoft's docs (dual-write mapping pages), the others are ours
_AOT_NAMES = {
    "CustomersV2": "CustCustomerV2Entity",
    "CustomerGroups": "CustCustomerGroupEntity",
    "Sites": "InventOperationalSiteEntity",
    "Warehouses": "InventWarehouseEntity",
    "AddressCountryRegions": "LogisticsAddressCountryRegionEntity",
    "CDSContactPersons": "CDSContactPersonEntity",
    "LegalEntities": "OMLegalEntity",
    "Languages": "LanguageEntity",
    "DecisionMakingRoles": "SmmDecisionMakingRoleEntity",
}
_MASTER = {"CustomersV2", "CDSContactPersons"}

_TYPES: dict[FieldType, tuple[str, str]] = {
    "string": ("Edm.String", "String"),
    "integer": ("Edm.Int32", "Int32"),
    "decimal": ("Edm.Decimal", "Real"),
    "boolean": ("Edm.Int32", "Int32"),
    "datetime": ("Edm.DateTimeOffset", "UtcDateTime"),
    "guid": ("Edm.Guid", "Guid"),
    "lookup": ("Edm.Guid", "Guid"),
    "enum": ("Edm.String", "String"),
}


def _words(name: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or name[i + 1 : i + 2].islower()):
            out.append(" ")
        out.append(ch)
    text = "".join(out).replace(" I D", " ID").strip()
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class _Enum:
    name: str
    members: tuple[str, ...]


class FinOpsCatalog:
    """The ``/Metadata`` records of one F&O service, and the labels they refer to."""

    def __init__(self, service: ServedService) -> None:
        self.service = service
        self.labels: dict[str, str] = {}
        self.data_entities: list[dict[str, Any]] = []
        self.public_entities: list[dict[str, Any]] = []
        self.enumerations: list[dict[str, Any]] = []
        enums: dict[str, _Enum] = {}
        for served in service.sets.values():
            self.data_entities.append(self._data_entity(served))
            self.public_entities.append(self._public_entity(served))
            for column in _enum_columns(served):
                assert column.enum_type is not None
                enums.setdefault(
                    column.enum_type, _Enum(column.enum_type, column.enum_values or ())
                )
        for enum in enums.values():
            self.enumerations.append(self._enumeration(enum))

    def _label(self, key: str, text: str) -> str:
        label_id = f"@IntegratorSandbox:{key}"
        self.labels[label_id] = text
        return label_id

    def _data_entity(self, served: ServedSet) -> dict[str, Any]:
        public = served.entity_set.entity_type
        return {
            "Name": _AOT_NAMES.get(served.name, f"{public}Entity"),
            "PublicEntityName": public,
            "PublicCollectionName": served.name,
            "LabelId": self._label(public, _words(served.name)),
            "DataServiceEnabled": True,
            "DataManagementEnabled": True,
            "EntityCategory": "Master" if served.name in _MASTER else "Reference",
            "IsReadOnly": served.entity_set.read_only,
        }

    def _public_entity(self, served: ServedSet) -> dict[str, Any]:
        public = served.entity_set.entity_type
        return {
            "Name": public,
            "EntitySetName": served.name,
            "LabelId": self._label(public, _words(served.name)),
            "IsReadOnly": served.entity_set.read_only,
            "ConfigurationEnabled": True,
            "Properties": [self._property(served, p) for p in served.properties.values()],
            "NavigationProperties": [],
            "PropertyGroups": [],
            "Actions": [],
        }

    def _property(self, served: ServedSet, prop: Property) -> dict[str, Any]:
        definition = prop.definition
        is_key = prop.name in served.key
        if definition is not None and definition.type == "enum" and definition.enum_type:
            type_name, data_type = f"{ENUM_NAMESPACE}.{definition.enum_type}", "Enum"
        else:
            type_name, data_type = _TYPES[prop.type]
        read_only = prop.read_only or served.entity_set.read_only
        return {
            "Name": prop.name,
            "TypeName": type_name,
            "DataType": data_type,
            "LabelId": self._label(f"{public_name(served)}.{prop.name}", _words(prop.name)),
            "IsKey": is_key,
            "IsMandatory": is_key or bool(definition and definition.required),
            "ConfigurationEnabled": True,
            # a key cannot change once the record exists; it is given on create
            "AllowEdit": not read_only and not is_key,
            "AllowEditOnCreate": not read_only,
            "IsDimension": False,
            "DimensionRelation": None,
            "IsDynamicDimension": False,
            "DimensionLegalEntityProperty": None,
            "DimensionTypeProperty": None,
        }

    def _enumeration(self, enum: _Enum) -> dict[str, Any]:
        return {
            "Name": enum.name,
            "LabelId": self._label(enum.name, _words(enum.name)),
            "Members": [
                {
                    "Name": member,
                    "Value": value,
                    "LabelId": self._label(f"{enum.name}.{member}", _words(member)),
                    "ConfigurationEnabled": True,
                }
                for value, member in enumerate(enum.members)
            ],
        }


def public_name(served: ServedSet) -> str:
    """The public entity name of ``served`` (its entity type: ``CustomerV2``)."""
    return served.entity_set.entity_type


def _enum_columns(served: ServedSet) -> Iterator[Column]:
    for column in served.entity_set.columns:
        if column.type == "enum" and column.enum_type:
            yield column
