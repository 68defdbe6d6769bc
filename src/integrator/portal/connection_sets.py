"""Connection sets as the portal shows them, secrets masked, and *Test connection*.

A connection names where its secrets are (``{env: VAR}``, ``{file: path}``); the portal shows
every secret field as :data:`MASK` and never sends the reference, let alone the value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from integrator.cli.project_view import SYSTEM_NAMES
from integrator.config.models import ConnectionSet
from integrator.config.workspace import Workspace
from integrator.engine.connections import ConnectorPool
from integrator.errors import IntegratorError, RequestRejected, SystemUnavailable, UsageError
from integrator.secrets import SecretRef
from integrator.templates.bindings import ORGANIZATIONS

__all__ = [
    "MASK",
    "ConnectionTest",
    "connection_set_json",
    "find_connection_set",
    "masked",
    "try_connection",
]

MASK = "••••••"
_SYSTEMS = ("sales", "cds", "finops")


def masked(value: Any) -> Any:
    """``value`` (a configuration model, or what it holds) as plain JSON types, with every
    secret reference replaced by :data:`MASK`."""
    if isinstance(value, SecretRef):
        return MASK
    if isinstance(value, BaseModel):
        return {
            (info.alias or key): masked(getattr(value, key))
            for key, info in type(value).model_fields.items()
        }
    if isinstance(value, dict):
        return {str(k): masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _connection_json(system: str, connection: Any) -> dict[str, Any]:
    auth = getattr(connection, "auth", None)
    return {
        "system": system,
        "system_name": SYSTEM_NAMES[system],
        "kind": connection.kind,
        "url": connection.url,
        "auth": getattr(auth, "type", "none"),
        "client_id": getattr(auth, "client_id", None),
        "tenant_id": getattr(auth, "tenant_id", None),
        "secret": MASK if auth is not None and (auth.client_secret or auth.token) else None,
        "settings": masked(connection),
    }


def connection_set_json(name: str, connection_set: ConnectionSet) -> dict[str, Any]:
    """``{"name", "connections": [{"system", "system_name", "kind", "url", "auth",
    "client_id", "tenant_id", "secret", "settings"}], "organization_mapping": [{"entry",
    "label", "value"}], "integration_keys": [{"entity", "fields"}]}``, secrets masked."""
    mapping = connection_set.organization_mapping
    return {
        "name": name,
        "connections": [
            _connection_json(system, connection)
            for system in _SYSTEMS
            if (connection := connection_set.connection(system)) is not None  # type: ignore[arg-type]
        ],
        "organization_mapping": [
            {"entry": entry, "label": table.title, "value": getattr(mapping, entry)}
            for entry, table in ORGANIZATIONS.items()
        ],
        "integration_keys": [
            {"entity": entity, "fields": fields.split(",")}
            for entity, _, fields in (key.partition(".") for key in connection_set.integration_keys)
        ],
    }


def find_connection_set(workspace: Workspace, name: str) -> ConnectionSet:
    """The connection set called exactly ``name``; raises :class:`UsageError` (answered 404)
    naming the known ones."""
    found = workspace.connection_sets.get(name)
    if found is None:
        known = ", ".join(f'"{n}"' for n in workspace.connection_sets) or "none"
        raise UsageError(f'no connection set named "{name}" (known: {known})')
    return found


@dataclass(frozen=True)
class ConnectionTest:
    """What *Test connection* found: ``ok``, and the sentence that says so."""

    system: str
    ok: bool
    message: str
    milliseconds: int


def _entity_to_ask(workspace: Workspace, set_name: str, system: str) -> str:
    """An entity ``system`` holds: one a project on the set reads or writes there, else the
    table its organizations are listed in."""
    for project in workspace.projects.values():
        if project.connection_set != set_name:
            continue
        for task in project.tasks:
            for leg in task.legs(project.source_system, project.destination_system):
                if leg.from_system == system:
                    return leg.from_entity
                if leg.to_system == system:
                    return leg.to_entity
    for table in ORGANIZATIONS.values():
        if table.system == system:
            return table.entity
    return "accounts"


def try_connection(workspace: Workspace, set_name: str, system: str) -> ConnectionTest:
    """Reach ``system`` of the connection set ``set_name`` as a run would (its metadata of one
    entity the projects use) and say how it went. Raises :class:`UsageError` (answered 404)
    when there is no such set or it has no such connection."""
    connection_set = find_connection_set(workspace, set_name)
    connection = connection_set.connection(system)  # type: ignore[arg-type]
    if system not in _SYSTEMS or connection is None:
        raise UsageError(f'connection set "{set_name}" has no {system} connection')
    label = SYSTEM_NAMES[system]
    entity = _entity_to_ask(workspace, set_name, system)
    pool = ConnectorPool(workspace, set_name)
    started = time.monotonic()
    try:
        pool.get(system).describe(entity)
    except RequestRejected:
        pass  # it answered: the system is reached, whatever it thinks of the entity
    except SystemUnavailable as error:
        elapsed = int((time.monotonic() - started) * 1000)
        named = error.named(system=system, url=connection.url)
        return ConnectionTest(system, False, f"Not reached: {named}", elapsed)
    except IntegratorError as error:
        elapsed = int((time.monotonic() - started) * 1000)
        return ConnectionTest(system, False, f"{label} answered, but: {error}", elapsed)
    finally:
        pool.close()
    elapsed = int((time.monotonic() - started) * 1000)
    message = f"OK: reached {label} at {connection.url} in {elapsed} ms"
    return ConnectionTest(system, True, message, elapsed)
