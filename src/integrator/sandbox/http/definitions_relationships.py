"""Relationship definitions (``OneToManyRelationshipMetadata``) of a Dataverse-flavoured
service, one per lookup target: ``contact.parentcustomerid`` → account and → contact.

Shapes follow the Web API reference (``webapi/reference/onetomanyrelationshipmetadata``,
``.../cascadeconfiguration``) and ``powerapps-docs/developer/data-platform/webapi/
query-metadata-web-api.md`` ("Querying relationship metadata"). A lookup's relationship is a
*many-to-one* relationship of the referencing table and a *one-to-many* relationship of the
referenced one; the sandbox has no many-to-many relationships.
"""

from __future__ import annotations

from typing import Any

from integrator.sandbox.schema import Service

__all__ = ["relationship_name", "relationships"]


def relationship_name(referencing: str, lookup: str, referenced_set: str) -> str:
    """The schema name of a lookup's relationship (ours: ``contact_parentcustomerid_accounts``)."""
    return f"{referencing}_{lookup}_{referenced_set}"


def relationships(service: Service, metadata_id: Any) -> list[dict[str, Any]]:
    """Every lookup relationship of ``service``; ``metadata_id(*parts)`` makes their ids."""
    out: list[dict[str, Any]] = []
    for entity_set in service.entity_sets:
        for lookup in entity_set.lookups:
            for target in lookup.targets:
                target_set = service.entity_set_of_type(target)
                if target_set is None:
                    continue
                name = relationship_name(entity_set.entity_type, lookup.name, target_set.name)
                out.append(
                    {
                        "MetadataId": metadata_id(service.name, "relationship", name),
                        "SchemaName": name,
                        "RelationshipType": "OneToManyRelationship",
                        "ReferencedAttribute": target_set.key[-1],
                        "ReferencedEntity": target,
                        "ReferencingAttribute": lookup.name,
                        "ReferencingEntity": entity_set.entity_type,
                        "ReferencedEntityNavigationPropertyName": name,
                        "ReferencingEntityNavigationPropertyName": lookup.navigation.get(target),
                        "IsCustomRelationship": False,
                        "IsManaged": True,
                        "IsValidForAdvancedFind": True,
                        "IsHierarchical": False,
                        "SecurityTypes": "Append",
                        "CascadeConfiguration": {
                            "Assign": "NoCascade",
                            "Delete": "RemoveLink",
                            "Merge": "NoCascade",
                            "Reparent": "NoCascade",
                            "Share": "NoCascade",
                            "Unshare": "NoCascade",
                            "RollupView": "NoCascade",
                        },
                        "IntroducedVersion": "5.0.0.0",
                        "HasChanged": None,
                    }
                )
    return out
