"""The shipped templates fit the systems the sandbox serves: every entity, field, key, type and
required field of SPEC §4 as the sandbox describes them (its service descriptions are data)."""

from __future__ import annotations

from pathlib import Path

from integrator.config import init_workspace, load_workspace, validate_workspace
from integrator.connectors.base import EntityInfo, FieldInfo
from integrator.sandbox.schema import EntitySet
from integrator.sandbox.stores.services import SERVICES


def _entity_info(entity_set: EntitySet) -> EntityInfo:
    fields = {
        c.name: FieldInfo(
            c.name,
            c.type,
            max_length=c.max_length,
            required=c.required,
            read_only=c.read_only,
            enum_values=c.enum_values,
        )
        for c in entity_set.columns
    }
    for lookup in entity_set.lookups:
        fields[lookup.name] = FieldInfo(lookup.name, "lookup", lookup_targets=lookup.targets)
    return EntityInfo(entity_set.name, fields, entity_set.key, entity_set.alternate_keys)


SANDBOX_ENTITIES = {
    (service.name, entity_set.name): _entity_info(entity_set)
    for service in SERVICES.values()
    for entity_set in service.entity_sets
}


def describe(system: str, entity: str) -> EntityInfo | None:
    return SANDBOX_ENTITIES.get((system, entity))


def test_new_workspace_validates_against_the_sandbox_metadata(tmp_path: Path) -> None:
    workspace = load_workspace(init_workspace(tmp_path / "ws", "http://127.0.0.1:8700"))
    assert validate_workspace(workspace, describe) == []
    assert len(workspace.projects) == 3


def test_new_direct_workspace_validates_against_the_sandbox_metadata(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws", "http://127.0.0.1:8700", direct=True)
    workspace = load_workspace(root)
    assert validate_workspace(workspace, describe) == []
    assert sorted(workspace.projects) == [
        "Accounts (Sales to Fin and Ops) - Direct",
        "Contacts to Contact (Sales to Fin and Ops) - Direct",
        "Contacts to Customer (Sales to Fin and Ops) - Direct",
    ]
    assert all(t.is_direct for p in workspace.projects.values() for t in p.tasks)
    connection_set = workspace.connection_set("default")
    assert connection_set.cds is None
    assert connection_set.sales is not None and connection_set.finops is not None
    assert connection_set.organization_mapping.finops_legal_entity == "USMF"
