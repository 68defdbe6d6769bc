"""``GET EntityDefinitions...``: table, column and key definitions as the Dataverse Web API
serves them (``powerapps-docs/developer/data-platform/webapi/query-metadata-web-api.md``,
``.../use-web-api-metadata.md``).

Served paths (``{e}`` is ``(LogicalName='contact')`` or ``(<MetadataId>)``):

- ``EntityDefinitions`` with ``$select``, ``$filter``, ``$expand=Attributes(...),Keys(...)``;
- ``EntityDefinitions{e}`` with the same options;
- ``EntityDefinitions{e}/Attributes``, ``.../Attributes/Microsoft.Dynamics.CRM.<Type>`` (a
  type cast: only attributes of that type, with its own properties and, for option-set
  types, ``$expand=OptionSet``/``GlobalOptionSet``), ``.../Attributes(LogicalName='x')`` or
  ``.../Attributes(<MetadataId>)``, optionally followed by a cast and ``/OptionSet``;
- ``EntityDefinitions{e}/Keys`` and ``.../Keys(LogicalName='x')`` / ``Keys(<MetadataId>)``.

Definitions are read-only here: writes answer 405.
"""

from __future__ import annotations

import re
from typing import Any

from integrator.sandbox.http.definitions import (
    AttributeDefinition,
    EntityDefinition,
    ServiceDefinitions,
)
from integrator.sandbox.http.definitions_query import (
    CRM,
    DefinitionOptions,
    matches,
    parse_definition_options,
    project,
)
from integrator.sandbox.http.definitions_types import (
    DERIVED,
    ENUM_TYPES,
    KEY_PROPERTIES,
    OPTION_SET_PROPERTIES,
)
from integrator.sandbox.http.errors import BAD_REQUEST, UNKNOWN_RESOURCE, ODataError
from integrator.sandbox.http.messages import ODataRequest, ODataResponse, json_response
from integrator.sandbox.http.metadata_changes import metadata_changes
from integrator.sandbox.http.relationship_definitions import (
    RELATIONSHIP_NAVIGATIONS,
    RelationshipsHandler,
    of_table,
)

__all__ = ["ENTITY_NOT_FOUND", "DefinitionsHandler"]

#: Dataverse's code for a table or column missing from its metadata cache
ENTITY_NOT_FOUND = "0x80041102"
_GUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_BY_NAME = re.compile(r"^LogicalName\s*=\s*'((?:[^']|'')*)'$")


def _not_found_entity(key: str) -> ODataError:
    return ODataError(
        404,
        ENTITY_NOT_FOUND,
        f"Could not find entity with name {key!r}: the entity with a name = {key!r} with "
        "namemapping = 'Logical' was not found in the MetadataCache.",
    )


def _segments(path: str) -> list[tuple[str, str | None]]:
    """``a(x)/b/c(y)`` → ``[("a", "x"), ("b", None), ("c", "y")]``."""
    out: list[tuple[str, str | None]] = []
    i, n = 0, len(path)
    while i < n:
        j = i
        while j < n and path[j] not in "(/":
            j += 1
        name, key = path[i:j], None
        if j < n and path[j] == "(":
            k, in_string = j + 1, False
            while k < n and (in_string or path[k] != ")"):
                if path[k] == "'":
                    in_string = not in_string
                k += 1
            if k >= n:
                raise ODataError(400, BAD_REQUEST, f"Unclosed key segment in '{path}'")
            key, j = path[j + 1 : k], k + 1
        out.append((name, key))
        if j < n and path[j] != "/":
            raise ODataError(400, BAD_REQUEST, f"Bad segment in '{path}'")
        i = j + 1
    return out


def _cast(name: str) -> str | None:
    for prefix in (f"{CRM}.", "mscrm."):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return None


class DefinitionsHandler:
    """Answers ``EntityDefinitions`` requests for one Dataverse service."""

    def __init__(self, definitions: ServiceDefinitions) -> None:
        self.definitions = definitions
        self.relationships = RelationshipsHandler(definitions)
        entities = list(definitions.entities.values())
        self._entity_props: dict[str, Any] = dict(entities[0].properties) if entities else {}
        self._base_attribute = {
            name: value
            for entity in entities
            for attribute in entity.attributes
            for name, value in attribute.properties.items()
            if not any(name in extra for extra in DERIVED.values())
        }
        self._key_props: dict[str, Any] = dict.fromkeys(KEY_PROPERTIES)

    # -- lookups -------------------------------------------------------------------------------

    def _entity(self, key: str | None) -> EntityDefinition:
        if key is None:
            raise ODataError(400, BAD_REQUEST, "A table definition needs a key")
        match = _BY_NAME.match(key.strip())
        if match:
            name = match.group(1).replace("''", "'")
            found = self.definitions.entities.get(name)
            if found is None:
                raise _not_found_entity(name)
            return found
        text = key.strip()
        if _GUID.match(text):
            by_id = self.definitions.by_id(text)
            if by_id is None:
                raise ODataError(
                    404, ENTITY_NOT_FOUND, f"Could not find entity with MetadataId {text.lower()}"
                )
            return by_id
        raise ODataError(
            400, BAD_REQUEST, f"Bad key '({key})': use (LogicalName='name') or (<MetadataId>)"
        )

    @staticmethod
    def _attribute(entity: EntityDefinition, key: str) -> AttributeDefinition:
        match = _BY_NAME.match(key.strip())
        found: AttributeDefinition | None = None
        if match:
            found = entity.attribute(match.group(1).replace("''", "'"))
        elif _GUID.match(key.strip()):
            wanted = key.strip().lower()
            found = next(
                (a for a in entity.attributes if a.properties["MetadataId"] == wanted), None
            )
        else:
            raise ODataError(400, BAD_REQUEST, f"Bad key '({key})' for an attribute")
        if found is None:
            raise ODataError(
                404,
                ENTITY_NOT_FOUND,
                f"'{entity.logical_name}' entity doesn't contain attribute with Name = "
                f"'{key.strip()}' and NameMapping = 'Logical'.",
            )
        return found

    # -- shapes --------------------------------------------------------------------------------

    def _attribute_props(self, type_name: str | None) -> dict[str, Any]:
        props = dict(self._base_attribute)
        if type_name is not None:
            props.update(dict.fromkeys(DERIVED.get(type_name, set())))
        return props

    def _attribute_navigations(self, type_name: str | None) -> dict[str, tuple[Any, str]]:
        if type_name in ENUM_TYPES:
            set_type = (
                "BooleanOptionSetMetadata"
                if type_name == "BooleanAttributeMetadata"
                else ("OptionSetMetadata")
            )
            return {
                "OptionSet": (OPTION_SET_PROPERTIES, set_type),
                "GlobalOptionSet": (OPTION_SET_PROPERTIES, set_type),
            }
        return {}

    def _entity_navigations(self) -> dict[str, tuple[Any, str]]:
        return {
            "Attributes": (self._attribute_props(None), "AttributeMetadata"),
            "Keys": (self._key_props, "EntityKeyMetadata"),
            **RELATIONSHIP_NAVIGATIONS,
        }

    @staticmethod
    def _option_set(attribute: AttributeDefinition, options: DefinitionOptions) -> Any:
        if attribute.option_set is None:
            return None
        return project(attribute.option_set, options.select)

    def _attribute_json(
        self,
        attribute: AttributeDefinition,
        options: DefinitionOptions,
        *,
        cast: str | None,
        base_only: bool = False,
    ) -> dict[str, Any]:
        props = attribute.properties
        if base_only:
            props = {k: v for k, v in props.items() if k in self._base_attribute}
        odata_type = None if cast == attribute.type_name else attribute.type_name
        out = project(props, options.select, odata_type=odata_type)
        for nav, nested in options.expand.items():
            out[nav] = (
                self._option_set(attribute, nested)
                if nav == "OptionSet"
                else None  # the sandbox's option sets are all local, never global
            )
        return out

    def _entity_json(self, entity: EntityDefinition, options: DefinitionOptions) -> dict[str, Any]:
        out = project(entity.properties, options.select)
        if "Attributes" in options.expand:
            nested = options.expand["Attributes"]
            out["Attributes"] = [
                self._attribute_json(a, nested, cast=None, base_only=True)
                for a in entity.attributes
                if matches(nested.filter, a.properties)
            ]
        if "Keys" in options.expand:
            nested = options.expand["Keys"]
            out["Keys"] = [
                project(k, nested.select) for k in entity.keys if matches(nested.filter, k)
            ]
        for navigation in RELATIONSHIP_NAVIGATIONS:
            if navigation in options.expand:
                nested = options.expand[navigation]
                out[navigation] = [
                    project(r, nested.select)
                    for r in of_table(entity, navigation)
                    if matches(nested.filter, r)
                ]
        return out

    # -- routing -------------------------------------------------------------------------------

    def answer(self, req: ODataRequest) -> ODataResponse:
        """Answer ``req`` (its path starts with ``EntityDefinitions``,
        ``RelationshipDefinitions`` or ``RetrieveMetadataChanges``); raises ``ODataError``."""
        if req.method.upper() != "GET":
            raise ODataError(
                405, BAD_REQUEST, "The sandbox serves table definitions read-only (GET)"
            )
        segments = _segments(req.path.strip("/"))
        if segments[0][0] == "RelationshipDefinitions":
            return self.relationships.answer(req, segments)
        if segments[0][0] == "RetrieveMetadataChanges" and len(segments) == 1:
            return metadata_changes(self.definitions, req, segments[0][1])
        context = f"{req.service_root}$metadata#EntityDefinitions"
        _, entity_key = segments[0]
        if len(segments) == 1:
            options = parse_definition_options(
                req.query, self._entity_props, "EntityMetadata", self._entity_navigations()
            )
            if entity_key is None:
                value = [
                    self._entity_json(e, options)
                    for e in self.definitions.entities.values()
                    if matches(options.filter, e.properties)
                ]
                return json_response(
                    200, {"@odata.context": context + options.context_part(), "value": value}
                )
            if options.filter is not None:
                raise ODataError(400, BAD_REQUEST, "$filter applies to collections only")
            entity = self._entity(entity_key)
            return json_response(
                200,
                {
                    "@odata.context": context + options.context_part() + "/$entity",
                    **self._entity_json(entity, options),
                },
            )
        entity = self._entity(entity_key)
        context = f"{context}({entity.metadata_id})"
        nav, nav_key = segments[1]
        rest = segments[2:]
        if nav == "Attributes":
            return self._attributes(req, entity, nav_key, rest, f"{context}/Attributes")
        if nav == "Keys" and not rest:
            return self._keys(req, entity, nav_key, f"{context}/Keys")
        if nav in RELATIONSHIP_NAVIGATIONS and nav_key is None and not rest:
            return self.relationships.of_entity(req, entity, nav, context)
        raise ODataError(404, UNKNOWN_RESOURCE, f"Resource not found for the segment '{nav}'.")

    def _attributes(
        self,
        req: ODataRequest,
        entity: EntityDefinition,
        key: str | None,
        rest: list[tuple[str, str | None]],
        context: str,
    ) -> ODataResponse:
        cast: str | None = None
        if rest:
            name, extra_key = rest[0]
            cast = _cast(name)
            if cast is None or extra_key is not None:
                raise ODataError(
                    404, UNKNOWN_RESOURCE, f"Resource not found for the segment '{name}'."
                )
            if cast == "EnumAttributeMetadata" or cast == "AttributeMetadata":
                raise ODataError(
                    400,
                    BAD_REQUEST,
                    f"Cannot cast Attributes to '{CRM}.{cast}': cast to a derived type such as "
                    f"'{CRM}.PicklistAttributeMetadata'.",
                )
            if cast not in DERIVED:
                raise ODataError(
                    404, UNKNOWN_RESOURCE, f"Resource not found for the segment '{name}'."
                )
            rest = rest[1:]
        if rest:
            if key is None or cast not in ENUM_TYPES or [n for n, _ in rest] != ["OptionSet"]:
                raise ODataError(
                    404, UNKNOWN_RESOURCE, f"Resource not found for the segment '{rest[0][0]}'."
                )
            return self._option_set_of(req, entity, key, cast, context)
        props = self._attribute_props(cast)
        options = parse_definition_options(
            req.query, props, cast or "AttributeMetadata", self._attribute_navigations(cast)
        )
        context += f"/{CRM}.{cast}" if cast else ""
        if key is None:
            value = [
                self._attribute_json(a, options, cast=cast)
                for a in entity.attributes
                if (cast is None or a.type_name == cast) and matches(options.filter, a.properties)
            ]
            return json_response(
                200, {"@odata.context": context + options.context_part(), "value": value}
            )
        attribute = self._attribute(entity, key)
        if cast is not None and attribute.type_name != cast:
            raise ODataError(
                400,
                BAD_REQUEST,
                f"The attribute '{attribute.logical_name}' is a {CRM}.{attribute.type_name}, "
                f"not a {CRM}.{cast}.",
            )
        return json_response(
            200,
            {
                "@odata.context": context + options.context_part() + "/$entity",
                **self._attribute_json(attribute, options, cast=cast),
            },
        )

    def _option_set_of(
        self, req: ODataRequest, entity: EntityDefinition, key: str, cast: str, context: str
    ) -> ODataResponse:
        attribute = self._attribute(entity, key)
        if attribute.type_name != cast or attribute.option_set is None:
            raise ODataError(
                400, BAD_REQUEST, f"The attribute '{attribute.logical_name}' is not a {cast}."
            )
        options = parse_definition_options(
            req.query, OPTION_SET_PROPERTIES, "OptionSetMetadata", {}
        )
        url = (
            f"{context}({attribute.properties['MetadataId']})/{CRM}.{cast}/OptionSet"
            f"{options.context_part()}/$entity"
        )
        return json_response(
            200, {"@odata.context": url, **project(attribute.option_set, options.select)}
        )

    def _keys(
        self, req: ODataRequest, entity: EntityDefinition, key: str | None, context: str
    ) -> ODataResponse:
        options = parse_definition_options(req.query, self._key_props, "EntityKeyMetadata", {})
        if key is None:
            value = [project(k, options.select) for k in entity.keys if matches(options.filter, k)]
            return json_response(
                200, {"@odata.context": context + options.context_part(), "value": value}
            )
        match = _BY_NAME.match(key.strip())
        wanted = match.group(1) if match else key.strip().lower()
        field = "LogicalName" if match else "MetadataId"
        for found in entity.keys:
            if found[field] == wanted:
                return json_response(
                    200,
                    {
                        "@odata.context": context + options.context_part() + "/$entity",
                        **project(found, options.select),
                    },
                )
        raise ODataError(404, ENTITY_NOT_FOUND, f"No key {key.strip()} on '{entity.logical_name}'")
