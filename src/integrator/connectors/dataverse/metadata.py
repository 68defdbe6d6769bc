"""What a Dataverse organization says about a table's columns, read from ``EntityDefinitions``.

Dataverse's ``$metadata`` gives types, keys and lookups, but not which columns are required,
which are read-only, how long a string may be or which values an option set has: those are
column definitions (``powerapps-docs/developer/data-platform/webapi/query-metadata-web-api.md``).
For one table this reads, once:

1. ``EntityDefinitions(LogicalName='contact')`` with ``$expand=Attributes($select=...)`` and
   ``Keys($select=...)``: every column's ``AttributeType``, ``RequiredLevel``,
   ``IsValidForCreate``/``IsValidForUpdate``, and the alternate keys with their index status;
2. one type-cast request per column type that carries more, and only for the types the table
   has: ``.../Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata`` (and ``Memo...``)
   for ``MaxLength``; ``PicklistAttributeMetadata``, ``StateAttributeMetadata`` and
   ``StatusAttributeMetadata`` with ``$expand=OptionSet($select=Options)`` for the options.

Dataverse does not allow it in fewer: an expanded ``Attributes`` holds only the properties
common to all ``AttributeMetadata`` (``MaxLength`` is a ``StringAttributeMetadata`` property)
and cannot expand ``OptionSet``; and a cast to ``EnumAttributeMetadata`` (the base of the option
set types) is refused, so each option-set type is its own request (same doc, "Querying
EntityMetadata attributes").

The rules (``.../webapi/reference/attributemetadata``, ``AttributeRequiredLevel``): a column is
*required* when its level is ``SystemRequired`` or ``ApplicationRequired`` and it is valid for
create (a column that cannot be set on create, such as ``statecode``, is never required), and
it is not the primary id (Dataverse makes one); it is *read-only* when it is valid neither for
create nor for update; alternate keys count only when their index is ``Active``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from typing import Any

from integrator.connectors.base import EntityInfo, FieldInfo
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.errors import BadResponseError

__all__ = ["ColumnDefinitions", "EntityDefinitionsReader", "apply_definitions"]

_CRM = "Microsoft.Dynamics.CRM"
_ATTRIBUTE_SELECT = (
    "LogicalName,AttributeType,AttributeOf,RequiredLevel,IsValidForCreate,IsValidForUpdate,"
    "IsPrimaryId"
)
_KEY_SELECT = "LogicalName,KeyAttributes,EntityKeyIndexStatus"
#: AttributeType -> (cast, what it adds): lengths or options
_CASTS: dict[str, tuple[str, str]] = {
    "String": ("StringAttributeMetadata", "length"),
    "Memo": ("MemoAttributeMetadata", "length"),
    "Picklist": ("PicklistAttributeMetadata", "options"),
    "State": ("StateAttributeMetadata", "options"),
    "Status": ("StatusAttributeMetadata", "options"),
}
_REQUIRED_LEVELS = frozenset({"SystemRequired", "ApplicationRequired"})


@dataclasses.dataclass(frozen=True)
class ColumnDefinitions:
    """A table's column definitions as Dataverse states them."""

    #: logical name -> the attribute's common properties
    attributes: dict[str, Mapping[str, Any]]
    #: logical name -> MaxLength of its String/Memo column
    lengths: dict[str, int]
    #: logical name -> option values of its Picklist/State/Status column
    options: dict[str, tuple[int, ...]]
    #: the alternate keys whose index is active
    alternate_keys: tuple[tuple[str, ...], ...]


def _values(body: Mapping[str, Any], what: str) -> list[Mapping[str, Any]]:
    value = body.get("value")
    if not isinstance(value, list):
        raise BadResponseError(f"{what}: the answer has no 'value' list")
    return [item for item in value if isinstance(item, Mapping)]


class EntityDefinitionsReader:
    """Reads and caches :class:`ColumnDefinitions` per table for one connector (one run)."""

    def __init__(self, client: ODataClient) -> None:
        self.client = client
        self._cache: dict[str, ColumnDefinitions] = {}
        self._lock = threading.Lock()

    def definitions(self, logical_name: str) -> ColumnDefinitions:
        """The definitions of table ``logical_name``, read on first use."""
        with self._lock:
            found = self._cache.get(logical_name)
            if found is None:
                found = self._cache[logical_name] = self._read(logical_name)
            return found

    def _read(self, logical_name: str) -> ColumnDefinitions:
        escaped = logical_name.replace("'", "''")
        table = f"EntityDefinitions(LogicalName='{escaped}')"
        body = self.client.get_json(
            table,
            params={
                "$select": "LogicalName",
                "$expand": f"Attributes($select={_ATTRIBUTE_SELECT}),Keys($select={_KEY_SELECT})",
            },
        )
        attributes_raw = body.get("Attributes")
        if not isinstance(attributes_raw, list):
            raise BadResponseError(f"GET {table}: the answer has no 'Attributes' list")
        attributes = {
            str(a["LogicalName"]): a
            for a in attributes_raw
            if isinstance(a, Mapping) and isinstance(a.get("LogicalName"), str)
        }
        keys = tuple(
            tuple(str(name) for name in key.get("KeyAttributes") or ())
            for key in body.get("Keys") or ()
            if isinstance(key, Mapping) and key.get("EntityKeyIndexStatus") == "Active"
        )
        present = {a.get("AttributeType") for a in attributes.values()}
        lengths: dict[str, int] = {}
        options: dict[str, tuple[int, ...]] = {}
        for attribute_type, (cast, adds) in _CASTS.items():
            if attribute_type not in present:
                continue
            path = f"{table}/Attributes/{_CRM}.{cast}"
            if adds == "length":
                params = {"$select": "LogicalName,MaxLength"}
            else:
                params = {"$select": "LogicalName", "$expand": "OptionSet($select=Options)"}
            for item in _values(self.client.get_json(path, params=params), f"GET {path}"):
                name = str(item.get("LogicalName"))
                if adds == "length" and isinstance(item.get("MaxLength"), int):
                    lengths[name] = item["MaxLength"]
                elif adds == "options":
                    option_set = item.get("OptionSet") or {}
                    values = [
                        o["Value"]
                        for o in option_set.get("Options") or ()
                        if isinstance(o, Mapping) and isinstance(o.get("Value"), int)
                    ]
                    options[name] = tuple(values)
        return ColumnDefinitions(attributes, lengths, options, tuple(k for k in keys if k))


def _field(info: FieldInfo, definitions: ColumnDefinitions) -> FieldInfo:
    attribute = definitions.attributes.get(info.name)
    if attribute is None:
        # a property $metadata has but the table's definitions do not: claim nothing about it
        return dataclasses.replace(info, required=False, read_only=False)
    level = attribute.get("RequiredLevel")
    level_value = level.get("Value") if isinstance(level, Mapping) else None
    creatable = attribute.get("IsValidForCreate") is True
    updatable = attribute.get("IsValidForUpdate") is True
    options = definitions.options.get(info.name) if info.type == "integer" else None
    return dataclasses.replace(
        info,
        required=level_value in _REQUIRED_LEVELS
        and creatable
        and attribute.get("IsPrimaryId") is not True,
        read_only=not creatable and not updatable,
        max_length=definitions.lengths.get(info.name, info.max_length),
        options=options or None,
    )


def apply_definitions(meta: EntitySetMetadata, definitions: ColumnDefinitions) -> EntityInfo:
    """``meta``'s entity with required, read-only, lengths, options and alternate keys taken
    from ``definitions`` (types, keys and lookup targets stay as ``$metadata`` gives them)."""
    info = meta.info
    fields = {name: _field(field, definitions) for name, field in info.fields.items()}
    return dataclasses.replace(info, fields=fields, alternate_keys=definitions.alternate_keys)
