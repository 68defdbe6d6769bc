"""Describe F&O entities from F&O's ``/Metadata`` service, one entity at a time.

What F&O says about an entity lives in two places, and the connector reads each for what only
it says:

- ``/Metadata/PublicEntities?$filter=EntitySetName eq 'CustomersV2'`` (a few kB per entity):
  the keys (``IsKey``), which fields a new record must carry (``IsMandatory``), which ones can
  be written (``AllowEdit``/``AllowEditOnCreate``: both false means read-only), and each
  field's type (``TypeName``/``DataType``: ``Edm.String``, or
  ``Microsoft.Dynamics.DataEntities.NoYes`` for an enum);
- ``/Metadata/PublicEnumerations('NoYes')``: the members of each enum those fields use;
- ``/data/$metadata``: only for string lengths (``MaxLength``), which the ``/Metadata``
  service does not carry. F&O's ``$metadata`` describes every public entity of the
  environment (thousands: tens of MB) and says nothing of mandatory fields (it marks every
  enum, number and date ``Nullable="false"`` because X++ value types have no null), so it is
  read once per connector, streamed, keeping only lengths, and not at all with
  ``string_lengths: false`` (``Truncate`` then needs an explicit ``length``).

Everything is cached per connector (one run), so describing ``CustomersV2`` costs one
``PublicEntities`` request, one ``PublicEnumerations`` request per enum not seen before, and
the one ``$metadata`` request of the run.
"""

from __future__ import annotations

import io
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from integrator.connectors.base import EntityInfo, FieldInfo, FieldType
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.metadata import EntitySetMetadata, ServiceMetadata
from integrator.connectors.http.responses import describe_url
from integrator.errors import BadResponseError, RequestRejected

__all__ = ["FinOpsMetadata", "entity_from_public_entity", "metadata_root"]

_EDM_TYPES: dict[str, FieldType] = {
    "Edm.String": "string",
    "Edm.Int16": "integer",
    "Edm.Int32": "integer",
    "Edm.Int64": "integer",
    "Edm.Byte": "integer",
    "Edm.Decimal": "decimal",
    "Edm.Double": "decimal",
    "Edm.Single": "decimal",
    "Edm.Boolean": "boolean",
    "Edm.DateTimeOffset": "datetime",
    "Edm.Date": "datetime",
    "Edm.Guid": "guid",
}
#: F&O's ODataXppType names, for a TypeName that is not an Edm type
_XPP_TYPES: dict[str, FieldType] = {
    "String": "string",
    "Int32": "integer",
    "Int64": "integer",
    "Real": "decimal",
    "Date": "datetime",
    "UtcDateTime": "datetime",
    "Guid": "guid",
    "Enum": "enum",
}


def metadata_root(data_root: str) -> str:
    """The ``/Metadata/`` URL beside an F&O OData root: ``https://host/data/`` →
    ``https://host/Metadata/`` (F&O serves both at the root of its host)."""
    url = httpx.URL(data_root)
    path = url.path.rstrip("/")
    parent, _, _last = path.rpartition("/")
    return str(url.copy_with(path=f"{parent}/Metadata/", query=None))


def _field_type(prop: Mapping[str, Any]) -> FieldType:
    data_type = str(prop.get("DataType") or "")
    if data_type == "Enum":
        return "enum"
    type_name = str(prop.get("TypeName") or "")
    return _EDM_TYPES.get(type_name) or _XPP_TYPES.get(data_type, "string")


def entity_from_public_entity(
    record: Mapping[str, Any],
    enums: Mapping[str, tuple[str, ...]],
    lengths: Mapping[str, int],
    *,
    url: str,
) -> EntitySetMetadata:
    """The connector's view of one ``PublicEntities`` record.

    ``enums`` gives the members of each enum by its qualified name
    (``Microsoft.Dynamics.DataEntities.NoYes``), ``lengths`` the string lengths by property.
    ``BadResponseError`` naming ``url`` when the record is not one.
    """
    properties = record.get("Properties")
    set_name = record.get("EntitySetName")
    if not isinstance(properties, list) or not isinstance(set_name, str):
        raise BadResponseError(f"GET {url}: the answer is not a PublicEntities record")
    fields: dict[str, FieldInfo] = {}
    enum_types: dict[str, str] = {}
    key: list[str] = []
    for prop in properties:
        if not isinstance(prop, Mapping) or not isinstance(prop.get("Name"), str):
            raise BadResponseError(f"GET {url}: a property of {set_name} has no Name")
        name: str = prop["Name"]
        type_ = _field_type(prop)
        enum_values = None
        if type_ == "enum":
            enum_types[name] = str(prop.get("TypeName"))
            enum_values = enums.get(enum_types[name])
        if prop.get("IsKey"):
            key.append(name)
        writable = prop.get("AllowEdit", True) or prop.get("AllowEditOnCreate", True)
        fields[name] = FieldInfo(
            name=name,
            type=type_,
            max_length=lengths.get(name) if type_ == "string" else None,
            required=bool(prop.get("IsMandatory")),
            read_only=not writable,
            enum_values=enum_values,
        )
    info = EntityInfo(name=set_name, fields=fields, key=tuple(key))
    return EntitySetMetadata(
        info=info,
        entity_type=f"Microsoft.Dynamics.DataEntities.{record.get('Name', set_name)}",
        properties={name: name for name in fields},
        enum_types=enum_types,
    )


def string_lengths(content: bytes, *, url: str) -> dict[str, dict[str, int]]:
    """``MaxLength`` of every string property, by entity type name then property, read from a
    CSDL document in one streaming pass (F&O's is tens of MB)."""
    lengths: dict[str, dict[str, int]] = {}
    current: dict[str, int] | None = None
    try:
        for event, element in ET.iterparse(io.BytesIO(content), events=("start", "end")):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "EntityType":
                if event == "start":
                    current = lengths.setdefault(element.get("Name", ""), {})
                else:
                    current = None
                    element.clear()
            elif tag == "Property" and event == "start" and current is not None:
                length = element.get("MaxLength", "")
                if length.isdigit():
                    current[element.get("Name", "")] = int(length)
    except ET.ParseError as exc:
        raise BadResponseError(f"GET {url}: $metadata is not well-formed XML ({exc})") from None
    return lengths


class FinOpsMetadata:
    """Entity descriptions of one F&O environment, read from ``/Metadata`` and cached."""

    def __init__(self, client: ODataClient, root: str, *, string_lengths: bool = True) -> None:
        self.client = client
        self.root = root
        self.read_string_lengths = string_lengths
        self._lock = threading.Lock()
        self._entities: dict[str, EntitySetMetadata] = {}
        self._enums: dict[str, tuple[str, ...]] = {}
        self._lengths: dict[str, dict[str, int]] | None = None

    def entity(self, set_name: str) -> EntitySetMetadata:
        """The description of entity set ``set_name``; ``RequestRejected`` (404,
        ``unknown-entity``) when F&O has no public entity with that entity set name."""
        with self._lock:
            cached = self._entities.get(set_name)
            if cached is not None:
                return cached
            record = self._public_entity(set_name)
            enum_names = [
                str(p.get("TypeName"))
                for p in record.get("Properties") or ()
                if isinstance(p, Mapping) and p.get("DataType") == "Enum"
            ]
            self._load_enums(enum_names)
            lengths = self._string_lengths().get(str(record.get("Name")), {})
            meta = entity_from_public_entity(
                record, self._enums, lengths, url=self._url("PublicEntities")
            )
            self._entities[set_name] = meta
            return meta

    def service(self) -> ServiceMetadata:
        """The entity sets described so far (lookups into F&O entities are not followed)."""
        with self._lock:
            sets = dict(self._entities)
        return ServiceMetadata(
            entity_sets=sets, set_of_type={m.entity_type: name for name, m in sets.items()}
        )

    def _url(self, path: str) -> str:
        return self.root + path

    def _public_entity(self, set_name: str) -> Mapping[str, Any]:
        literal = set_name.replace("'", "''")
        url = self._url("PublicEntities")
        body = self.client.get_json(url, params={"$filter": f"EntitySetName eq '{literal}'"})
        found = body.get("value")
        if not isinstance(found, list):
            raise BadResponseError(f"GET {describe_url(url)}: the answer has no 'value' list")
        for record in found:
            if isinstance(record, Mapping) and record.get("EntitySetName") == set_name:
                return record
        raise RequestRejected(
            f"{self.client.base_url} has no public entity with entity set name {set_name!r} "
            f"(asked {describe_url(url)})",
            status=404,
            code="unknown-entity",
        )

    def _load_enums(self, qualified_names: Iterable[str]) -> None:
        for qualified in dict.fromkeys(qualified_names):
            if qualified in self._enums:
                continue
            name = qualified.rpartition(".")[2]
            url = self._url(f"PublicEnumerations('{name.replace(chr(39), chr(39) * 2)}')")
            body = self.client.get_json(url)
            members = body.get("Members")
            if not isinstance(members, list):
                raise BadResponseError(f"GET {describe_url(url)}: the enum has no Members list")
            ordered = sorted(
                (m for m in members if isinstance(m, Mapping)), key=lambda m: m.get("Value", 0)
            )
            self._enums[qualified] = tuple(str(m.get("Name")) for m in ordered)

    def _string_lengths(self) -> dict[str, dict[str, int]]:
        if not self.read_string_lengths:
            return {}
        if self._lengths is None:
            response = self.client.request(
                "GET", "$metadata", headers={"Accept": "application/xml"}
            )
            self._lengths = string_lengths(response.content, url=describe_url(response.request.url))
        return self._lengths
