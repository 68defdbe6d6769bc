"""Relationship definitions as Dataverse serves them: ``EntityDefinitions(...)/
OneToManyRelationships``, ``/ManyToOneRelationships``, ``/ManyToManyRelationships`` (and their
``$expand`` on a table), and the ``RelationshipDefinitions`` entity set.

``powerapps-docs/developer/data-platform/webapi/query-metadata-web-api.md`` ("Querying
relationship metadata") and ``.../use-web-api-metadata.md``; ``RelationshipDefinitions`` holds
both relationship types, so its items carry their ``@odata.type`` and, without a cast, only the
``RelationshipMetadataBase`` properties can be selected or filtered on
(``powerapps-docs/developer/data-platform/query-schema-definitions.md``).
"""

from __future__ import annotations

import re
from typing import Any

from integrator.sandbox.http.definitions import EntityDefinition, ServiceDefinitions
from integrator.sandbox.http.definitions_query import (
    CRM,
    matches,
    parse_definition_options,
    project,
)
from integrator.sandbox.http.errors import BAD_REQUEST, UNKNOWN_RESOURCE, ODataError
from integrator.sandbox.http.messages import ODataRequest, ODataResponse, json_response

__all__ = ["RELATIONSHIP_NAVIGATIONS", "RelationshipsHandler"]

_BASE = [
    "MetadataId",
    "SchemaName",
    "RelationshipType",
    "IsCustomRelationship",
    "IsManaged",
    "IsValidForAdvancedFind",
    "SecurityTypes",
    "IsCustomizable",
    "IntroducedVersion",
    "HasChanged",
]
_ONE_TO_MANY = [
    *_BASE,
    *[
        "ReferencedAttribute",
        "ReferencedEntity",
        "ReferencingAttribute",
        "ReferencingEntity",
        "ReferencedEntityNavigationPropertyName",
        "ReferencingEntityNavigationPropertyName",
        "IsHierarchical",
        "CascadeConfiguration",
        "AssociatedMenuConfiguration",
    ],
]
_MANY_TO_MANY = [
    *_BASE,
    *[
        "Entity1LogicalName",
        "Entity2LogicalName",
        "IntersectEntityName",
        "Entity1IntersectAttribute",
        "Entity2IntersectAttribute",
        "Entity1NavigationPropertyName",
        "Entity2NavigationPropertyName",
    ],
]
#: navigation property of EntityMetadata -> (property names, type name)
RELATIONSHIP_NAVIGATIONS: dict[str, tuple[dict[str, None], str]] = {
    "OneToManyRelationships": (dict.fromkeys(_ONE_TO_MANY), "OneToManyRelationshipMetadata"),
    "ManyToOneRelationships": (dict.fromkeys(_ONE_TO_MANY), "OneToManyRelationshipMetadata"),
    "ManyToManyRelationships": (dict.fromkeys(_MANY_TO_MANY), "ManyToManyRelationshipMetadata"),
}
_TYPES = {
    "OneToManyRelationshipMetadata": dict.fromkeys(_ONE_TO_MANY),
    "ManyToManyRelationshipMetadata": dict.fromkeys(_MANY_TO_MANY),
}
_BY_SCHEMA_NAME = re.compile(r"^SchemaName\s*=\s*'((?:[^']|'')*)'$")


def of_table(entity: EntityDefinition, navigation: str) -> list[dict[str, Any]]:
    """The relationships behind one of a table's relationship navigation properties."""
    if navigation == "OneToManyRelationships":
        return entity.one_to_many
    if navigation == "ManyToOneRelationships":
        return entity.many_to_one
    return []


class RelationshipsHandler:
    """Answers relationship requests for one Dataverse service."""

    def __init__(self, definitions: ServiceDefinitions) -> None:
        self.definitions = definitions

    def of_entity(
        self, req: ODataRequest, entity: EntityDefinition, navigation: str, context: str
    ) -> ODataResponse:
        """``EntityDefinitions(...)/<navigation>`` with ``$select``/``$filter``."""
        props, type_name = RELATIONSHIP_NAVIGATIONS[navigation]
        options = parse_definition_options(req.query, props, type_name, {})
        value = [
            project(r, options.select)
            for r in of_table(entity, navigation)
            if matches(options.filter, r)
        ]
        return json_response(
            200,
            {"@odata.context": f"{context}/{navigation}{options.context_part()}", "value": value},
        )

    def answer(self, req: ODataRequest, segments: list[tuple[str, str | None]]) -> ODataResponse:
        """``RelationshipDefinitions[(key)][/Microsoft.Dynamics.CRM.<Type>]``."""
        _, key = segments[0]
        cast: str | None = None
        for name, extra in segments[1:2]:
            cast = name.removeprefix(f"{CRM}.")
            if cast not in _TYPES or extra is not None or len(segments) > 2:
                raise ODataError(
                    404, UNKNOWN_RESOURCE, f"Resource not found for the segment '{name}'."
                )
        props = _TYPES[cast] if cast else dict.fromkeys(_BASE)
        type_name = cast or "RelationshipMetadataBase"
        options = parse_definition_options(req.query, props, type_name, {})
        context = f"{req.service_root}$metadata#RelationshipDefinitions"
        if key is not None:
            context += f"({key})"
        context += f"/{CRM}.{cast}" if cast else ""
        found = [
            r
            for r in self.definitions.relationships
            if (cast is None or f"{r['RelationshipType']}Metadata" == cast)
            and matches(options.filter, r)
        ]
        odata_type = None if cast else "OneToManyRelationshipMetadata"
        if key is None:
            value = [project(r, options.select, odata_type=odata_type) for r in found]
            return json_response(
                200, {"@odata.context": context + options.context_part(), "value": value}
            )
        match = _BY_SCHEMA_NAME.match(key.strip())
        field, wanted = ("SchemaName", match.group(1)) if match else ("MetadataId", key.lower())
        for relationship in found:
            if relationship[field] == wanted:
                return json_response(
                    200,
                    {
                        "@odata.context": context + options.context_part() + "/$entity",
                        **project(relationship, options.select, odata_type=odata_type),
                    },
                )
        if not match and not re.match(r"^[0-9a-fA-F-]{36}$", key.strip()):
            raise ODataError(400, BAD_REQUEST, f"Bad key '({key})' for a relationship")
        raise ODataError(404, "0x80040217", f"No relationship {key.strip()} was found")
