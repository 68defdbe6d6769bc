"""Validation of the organization mapping and the template fields bound to it.

A template binds destination fields to entries of the connection set's organization mapping
(:mod:`integrator.templates.bindings`). For the projects being validated this finds:

- a bound field the leg's entity does not have;
- a bound field whose mapping row has a source, or a template value (``Default``, ``ValueMap``
  target) that disagrees with the connection set's entry it is bound to;
- an organization that does not exist in its system (the CDS organization in CDS's
  ``organizations``, the F&O legal entity in F&O's ``LegalEntities``), looked up through the
  systems' connectors when they are given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from integrator.config.files import CONNECTIONS_FILE
from integrator.config.models import ConnectionSet
from integrator.config.workspace import Workspace
from integrator.connectors.base import Connector, EntityInfo
from integrator.errors import ConfigProblem, RequestRejected
from integrator.mapping import build_transform
from integrator.mapping.registry import TransformError
from integrator.templates.bindings import ORGANIZATIONS, OrganizationTable
from integrator.templates.model import Leg, OrganizationEntry, describe_location
from integrator.templates.yamldoc import line_of

__all__ = ["Connect", "check_organization"]

#: ``connect(system)``: the connector of ``system`` (``sales``, ``cds``, ``finops``)
Connect = Callable[[str], Connector]

#: organizations listed in a message saying one does not exist, at most
_LISTED = 10


class OrganizationLookup:
    """The organizations each system lists, read once through ``connect`` and then kept (an
    engine validates before every run; its systems are asked only the first time)."""

    def __init__(self, connect: Connect) -> None:
        self.connect = connect
        self._known: dict[tuple[str, str, str], set[str]] = {}

    def ids(self, table: OrganizationTable) -> set[str]:
        """The ids in ``table`` (its system's organizations or legal entities)."""
        key = (table.system, table.entity, table.field)
        if key not in self._known:
            self._known[key] = _organizations(self.connect(table.system), table)
        return self._known[key]


def check_organization(
    workspace: Workspace,
    projects: Sequence[str],
    describe: Callable[[str, str], EntityInfo | None],
    connect: Connect | OrganizationLookup | None = None,
) -> list[ConfigProblem]:
    """The problems of the bindings of ``projects`` (loaded projects, by resolved name) and of
    the organizations they bind to; organizations are looked up only when ``connect`` is given
    (an :class:`OrganizationLookup` keeps what it read for the next call).
    ``describe`` gives an entity's metadata (``None`` when there is none: that problem is
    reported with the task, so the entity is skipped here)."""
    problems: list[ConfigProblem] = []
    bound: dict[tuple[str, OrganizationEntry], None] = {}
    for name in projects:
        problems.extend(_binding_problems(workspace, name, describe, bound))
    if connect is not None:
        lookup = connect if isinstance(connect, OrganizationLookup) else OrganizationLookup(connect)
        for set_name, entry in bound:
            problem = _missing_organization(workspace, set_name, entry, lookup)
            if problem is not None:
                problems.append(problem)
    return problems


def _binding_problems(
    workspace: Workspace,
    name: str,
    describe: Callable[[str, str], EntityInfo | None],
    bound: dict[tuple[str, OrganizationEntry], None],
) -> list[ConfigProblem]:
    """The problems of project ``name``'s bindings; adds each (connection set, entry) it binds
    to ``bound``."""
    project = workspace.projects.get(name)
    if project is None or project.connection_set not in workspace.connection_sets:
        return []
    connection_set = workspace.connection_sets[project.connection_set]
    file = workspace.project_files[name]
    document = workspace.documents.get(file)
    problems: list[ConfigProblem] = []

    def add(loc: Sequence[int | str], message: str) -> None:
        path = describe_location(f'project "{name}"', document, loc)
        problems.append(ConfigProblem(file, line_of(document, loc), path, message))

    for t_index, task in enumerate(project.tasks):
        for leg in task.legs(project.source_system, project.destination_system):
            for field_name, entry in leg.bindings.items():
                bound[(project.connection_set, entry)] = None
                info = describe(leg.to_system, leg.to_entity)
                if info is not None and field_name not in info.fields:
                    add(
                        ("tasks", t_index, "bindings", leg.name, field_name),
                        f"field '{field_name}' does not exist on {info.name}",
                    )
                value = _entry_value(connection_set, entry)
                where = _entry_where(workspace, project.connection_set, entry)
                for r_loc, message in _row_disagreements(leg, field_name, entry, value, where):
                    add(("tasks", t_index, leg.name, *r_loc), message)
    return problems


def _entry_value(connection_set: ConnectionSet, entry: OrganizationEntry) -> str:
    mapping = connection_set.organization_mapping
    return mapping.cds_organization if entry == "cds_organization" else mapping.finops_legal_entity


def _entry_loc(set_name: str, entry: str) -> tuple[str, ...]:
    return ("connection_sets", set_name, "organization_mapping", entry)


def _entry_where(workspace: Workspace, set_name: str, entry: str) -> str:
    """``connections.yaml:14`` (the entry's line), for messages pointing at it."""
    line = line_of(workspace.documents.get(CONNECTIONS_FILE), _entry_loc(set_name, entry))
    return CONNECTIONS_FILE if line is None else f"{CONNECTIONS_FILE}:{line}"


def _row_disagreements(
    leg: Leg, field_name: str, entry: OrganizationEntry, value: str, where: str
) -> list[tuple[tuple[int | str, ...], str]]:
    """(location inside the leg, message) for each part of a row writing ``field_name`` that
    does not write the bound ``value``."""
    table = ORGANIZATIONS[entry]
    found: list[tuple[tuple[int | str, ...], str]] = []
    for r_index, row in enumerate(leg.rows):
        if row.destination != field_name:
            continue
        if row.source is not None:
            found.append(
                (
                    (r_index, "source"),
                    f"{field_name} is bound to the organization mapping's {entry} ({where}), "
                    "which gives its value: remove the source",
                )
            )
        for t_index, spec in enumerate(row.transforms):
            try:
                constants = build_transform(spec).constant_values()
            except TransformError:
                continue  # reported with the mapping's other problems
            for constant in constants:
                if constant is None or table.same(str(constant), value):
                    continue
                found.append(
                    (
                        (r_index, "transforms", t_index),
                        f"the template value '{constant}' disagrees with the organization "
                        f"mapping's {entry} '{value}' ({where}), which {field_name} is bound "
                        "to: make them the same",
                    )
                )
    return found


def _missing_organization(
    workspace: Workspace, set_name: str, entry: OrganizationEntry, lookup: OrganizationLookup
) -> ConfigProblem | None:
    """The problem of an organization mapping entry naming an organization its system lacks."""
    connection_set = workspace.connection_sets[set_name]
    table = ORGANIZATIONS[entry]
    if connection_set.connection(table.system) is None:
        return None  # the project's missing connection is reported with the project
    value = _entry_value(connection_set, entry)
    loc = _entry_loc(set_name, entry)
    path = f'connection set "{set_name}", organization_mapping.{entry}'
    line = line_of(workspace.documents.get(CONNECTIONS_FILE), loc)
    try:
        known = lookup.ids(table)
    except RequestRejected as exc:
        message = f"cannot list the {table.title}s ({table.entity} on {table.system}): {exc}"
        return ConfigProblem(CONNECTIONS_FILE, line, path, message)
    if any(table.same(value, other) for other in known):
        return None
    listed = ", ".join(sorted(known)[:_LISTED]) or "none"
    more = " …" if len(known) > _LISTED else ""
    message = (
        f"the {table.title} '{value}' does not exist in {table.system} "
        f"({table.entity}: {listed}{more})"
    )
    return ConfigProblem(CONNECTIONS_FILE, line, path, message)


def _organizations(connector: Connector, table: OrganizationTable) -> set[str]:
    ids: set[str] = set()
    for page in connector.read(table.entity, [table.field]):
        ids.update(str(record[table.field]) for record in page if record.get(table.field))
    return ids
