"""Validation before anything runs: every problem in a workspace at once, each with file, line
and a readable path, checked against the systems' metadata through ``describe``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from integrator.config.files import CONNECTIONS_FILE, SETTINGS_FILE
from integrator.config.organization import Connect, OrganizationLookup, check_organization
from integrator.config.workspace import Workspace
from integrator.connectors.base import EntityInfo, FieldInfo
from integrator.errors import (
    ConfigError,
    ConfigProblem,
    FilterSyntaxError,
    FilterTypeError,
    IntegratorError,
    SystemUnavailable,
    UnavailableSystems,
)
from integrator.mapping import MappingRow, build_transform, check_rows
from integrator.mapping.registry import TransformError
from integrator.mapping.valuefiles import use_workspace_root
from integrator.p2c.readiness import missing_solution_fields, upgrade_hint
from integrator.templates.model import Leg, Task, describe_location
from integrator.templates.yamldoc import line_of

try:  # the shared $filter parser; validation still runs where it is not installed
    from integrator.odata.filter import check_types, parse_filter, referenced_fields
except ImportError:  # pragma: no cover
    parse_filter = None  # type: ignore[assignment]
    referenced_fields = None  # type: ignore[assignment]
    check_types = None  # type: ignore[assignment]

#: key fields the shipped templates bind to an organization mapping entry
_USUALLY_BOUND = {"dataAreaId": "finops_legal_entity"}

__all__ = [
    "Connect",
    "Describe",
    "check_workspace",
    "scope_problems",
    "validate_workspace",
]

#: ``describe(system, entity)``: the entity's metadata, or ``None`` when the system has no such
#: entity. ``system`` is ``sales``, ``cds`` or ``finops``.
Describe = Callable[[str, str], EntityInfo | None]


def check_workspace(
    workspace: Workspace,
    describe: Describe,
    *,
    projects: Sequence[str] = (),
    connect: Connect | OrganizationLookup | None = None,
) -> None:
    """Raise :class:`ConfigError` with every problem :func:`validate_workspace` finds in the
    scope of ``projects``."""
    problems = validate_workspace(workspace, describe, projects=projects, connect=connect)
    if problems:
        raise ConfigError(problems)


def scope_problems(workspace: Workspace, projects: Sequence[str] = ()) -> list[ConfigProblem]:
    """What loading found in the files running ``projects`` depends on: the workspace's
    settings and connections, and the files of ``projects`` and of their prerequisites (all
    files when ``projects`` is empty). Raises :class:`ConfigError` for a name that designates
    no project."""
    if not projects:
        return list(workspace.problems)
    files = {SETTINGS_FILE, CONNECTIONS_FILE}
    files.update(workspace.project_files[n] for n in workspace.with_prerequisites(projects))
    return [p for p in workspace.problems if p.file in files]


def validate_workspace(
    workspace: Workspace,
    describe: Describe,
    *,
    projects: Sequence[str] = (),
    connect: Connect | OrganizationLookup | None = None,
) -> list[ConfigProblem]:
    """Every problem in the scope of ``projects`` (the projects they name and their
    prerequisites; every project, template and connection set when empty): what loading found
    (YAML syntax, schema) and, for each project, unknown entities and fields, destination
    fields mapped twice, types that cannot convert, required fields left empty, invalid
    filters, unknown transforms, unknown prerequisites and connection sets; integration keys
    that name no field; and the fields bound to the organization mapping, whose organizations
    are looked up in their systems through ``connect`` when it is given (see
    :func:`integrator.config.organization.check_organization`).

    A system that cannot be reached or refuses the credentials is not a problem of the
    configuration: ``describe`` is not asked again about it, and once everything else is
    checked, :class:`UnavailableSystems` is raised with one error per such system."""
    use_workspace_root(workspace.root)  # value maps in CSV files resolve against it
    names = workspace.with_prerequisites(projects) if projects else list(workspace.projects)
    checker = _Checker(workspace, describe)
    used = {p.connection_set for n in names if (p := workspace.projects.get(n)) is not None}
    checker.check_connection_sets(None if not projects else used)
    for name in names:
        if name in workspace.projects:
            checker.check_project(name)
    if checker.unavailable:
        raise UnavailableSystems(list(checker.unavailable.values()))
    organization = check_organization(workspace, names, checker.metadata, connect)
    return [*scope_problems(workspace, projects), *checker.problems, *organization]


class _Checker:
    def __init__(self, workspace: Workspace, describe: Describe) -> None:
        self.ws = workspace
        self._describe = describe
        self._cache: dict[tuple[str, str], EntityInfo | str | None] = {}
        self.problems: list[ConfigProblem] = []
        #: the systems that could not be used, each with the first error it gave
        self.unavailable: dict[str, SystemUnavailable] = {}

    def describe(self, system: str, entity: str) -> EntityInfo | str:
        """The entity's metadata, or a message saying why there is none."""
        if system in self.unavailable:
            return str(self.unavailable[system])
        key = (system, entity)
        if key not in self._cache:
            try:
                self._cache[key] = self._describe(system, entity)
            except SystemUnavailable as exc:
                self.unavailable[system] = exc.named(system=system)
                return str(exc)
            except IntegratorError as exc:
                self._cache[key] = f"cannot read the metadata of '{entity}' on {system}: {exc}"
        found = self._cache[key]
        if found is None:
            return f"entity '{entity}' does not exist on {system}"
        return found

    def metadata(self, system: str, entity: str) -> EntityInfo | None:
        """The entity's metadata, ``None`` when there is none (the reason is reported apart)."""
        found = self.describe(system, entity)
        return found if isinstance(found, EntityInfo) else None

    def add(self, file: str, loc: Sequence[int | str], path: str, message: str) -> None:
        line = line_of(self.ws.documents.get(file), loc)
        self.problems.append(ConfigProblem(file, line, path, message))

    def check_connection_sets(self, only: set[str] | None) -> None:
        for set_name, connection_set in self.ws.connection_sets.items():
            if only is not None and set_name not in only:
                continue
            for i, item in enumerate(connection_set.integration_keys):
                loc = ("connection_sets", set_name, "integration_keys", i)
                path = f'connection set "{set_name}", integration_keys[{i + 1}]'
                entity, _, field = item.partition(".")
                if not entity or not field or "." in field:
                    self.add(CONNECTIONS_FILE, loc, path, f"'{item}' is not entity.field")
                    continue
                if connection_set.sales is None:
                    continue
                info = self.describe("sales", entity)
                if isinstance(info, str):
                    self.add(CONNECTIONS_FILE, loc, path, info)
                elif field not in info.fields:
                    self.add(
                        CONNECTIONS_FILE, loc, path, f"field '{field}' does not exist on {entity}"
                    )

    def check_project(self, name: str) -> None:
        project = self.ws.projects[name]
        file = self.ws.project_files[name]
        document = self.ws.documents.get(file)
        prefix = f'project "{name}"'

        def add(loc: Sequence[int | str], message: str) -> None:
            self.add(file, loc, describe_location(prefix, document, loc), message)

        connection_set = self.ws.connection_sets.get(project.connection_set)
        if connection_set is None and self.ws.connection_sets:
            known = ", ".join(self.ws.connection_sets)
            add(
                ("connection_set",),
                f'no connection set named "{project.connection_set}" in {CONNECTIONS_FILE} '
                f"(known: {known})",
            )
        if connection_set is not None:
            systems = {project.source_system, project.destination_system}
            if any(not t.is_direct for t in project.tasks):
                systems.add("cds")
            for system in sorted(systems):
                if connection_set.connection(system) is None:
                    add(
                        ("connection_set",),
                        f'connection set "{project.connection_set}" has no {system} connection',
                    )

        known_templates = {e.name.casefold() for e in self.ws.templates}
        known_projects = {n.casefold() for n in self.ws.project_files}
        for i, prior in enumerate(project.required_prior):
            folded = prior.casefold()
            if folded not in known_templates and folded not in known_projects:
                add(("required_prior", i), f"unknown prerequisite template '{prior}'")
            elif folded == name.casefold() or (
                project.template is not None and folded == project.template.casefold()
            ):
                add(("required_prior", i), "a project cannot require itself")

        for t_index, task in enumerate(project.tasks):
            self.check_task(task, t_index, project.source_system, project.destination_system, add)
            if project.source_system == "sales":
                info = self.metadata("sales", task.source_entity)
                missing = [] if info is None else missing_solution_fields(task.source_entity, info)
                if missing:
                    add(
                        ("tasks", t_index, "source_entity"),
                        f"Sales has no {', '.join(missing)} on {task.source_entity}: the "
                        "Prospect to cash solution adds them; install it in Sales, then run "
                        f"`{upgrade_hint(self.ws.root)}`",
                    )

    def check_task(
        self,
        task: Task,
        t_index: int,
        source_system: str,
        destination_system: str,
        add: Callable[..., None],
    ) -> None:
        task_loc: tuple[int | str, ...] = ("tasks", t_index)
        entities: dict[str, EntityInfo | str] = {
            "source_entity": self.describe(source_system, task.source_entity),
            "destination_entity": self.describe(destination_system, task.destination_entity),
        }
        if task.cds_entity is not None:
            entities["cds_entity"] = self.describe("cds", task.cds_entity)
        for key, info in entities.items():
            if isinstance(info, str):
                add((*task_loc, key), info)

        source = entities["source_entity"]
        if task.source_filter is not None:
            self.check_filter(task.source_filter, source, (*task_loc, "source_filter"), add)

        key_sets = {
            "source": entities["source_entity"],
            "cds": entities.get("cds_entity", ""),
            "destination": entities["destination_entity"],
        }
        for system_key, info in key_sets.items():
            if isinstance(info, EntityInfo):
                for k_index, key_field in enumerate(getattr(task.keys, system_key)):
                    if key_field not in info.fields:
                        add(
                            (*task_loc, "keys", system_key, k_index),
                            f"key field '{key_field}' does not exist on {info.name}",
                        )

        for leg in task.legs(source_system, destination_system):
            from_info = self.describe(leg.from_system, leg.from_entity)
            to_info = self.describe(leg.to_system, leg.to_entity)
            self.check_leg(leg, (*task_loc, leg.name), from_info, to_info, add)

    def check_filter(
        self,
        text: str,
        source: EntityInfo | str,
        loc: Sequence[int | str],
        add: Callable[..., None],
    ) -> None:
        if parse_filter is None:
            return
        try:
            expression = parse_filter(text)
        except FilterSyntaxError as exc:
            add(loc, f"invalid filter at position {exc.position}: {exc.reason}")
            return
        if isinstance(source, EntityInfo) and referenced_fields is not None:
            missing = False
            for path in sorted(referenced_fields(expression)):
                head = path.replace("/", ".").split(".", 1)[0]
                if head not in source.fields and f"_{head}_value" not in source.fields:
                    add(loc, f"the filter reads '{path}', which does not exist on {source.name}")
                    missing = True
            if not missing and check_types is not None:
                fields = source.fields

                def field_type(path: str) -> str | None:
                    info = fields.get(path)
                    return info.type if info is not None else None

                try:
                    # a SQL source keeps booleans as numbers (SQLite INTEGER, SQL Server bit)
                    check_types(expression, field_type, number_fields_as_booleans=True)
                except FilterTypeError as exc:
                    add(loc, f"invalid filter: {exc.reason}")

    def check_leg(
        self,
        leg: Leg,
        leg_loc: tuple[int | str, ...],
        from_info: EntityInfo | str,
        to_info: EntityInfo | str,
        add: Callable[..., None],
    ) -> None:
        rows = leg.rows
        if isinstance(to_info, str):
            # the entity problem is reported once, on the task; transforms can still be checked
            for r_index, row in enumerate(rows):
                for t_index, spec in enumerate(row.transforms):
                    try:
                        build_transform(spec)
                    except TransformError as exc:
                        add((*leg_loc, r_index, "transforms", t_index), str(exc))
            return
        source = from_info if isinstance(from_info, EntityInfo) else None
        for problem in check_rows(rows, to_info, source):
            loc: tuple[int | str, ...] = (*leg_loc, problem.row, problem.part)
            if problem.transform is not None:
                loc = (*loc, problem.transform)
            add(loc, problem.message)

        bound = set(leg.bindings)
        covered = bound | {row.destination for row in rows if _writes_something(row)}
        mapped = bound | {row.destination for row in rows}
        unmapped_keys = [k for k in leg.key if k in to_info.fields and k not in mapped]
        for key_field in unmapped_keys:
            message = f"key field '{key_field}' of {to_info.name} is not mapped"
            entry = _USUALLY_BOUND.get(key_field)
            if entry is not None:  # a project file from before templates declared bindings
                message += (
                    f": bind it to the organization mapping, in the task: "
                    f"bindings: {{{leg.name}: {{{key_field}: {entry}}}}}"
                )
            add(leg_loc, message)
        for field_name in to_info.required_fields():
            info = to_info.fields[field_name]
            if field_name in covered or field_name in unmapped_keys:
                continue
            if _filled_by_system(info, to_info):
                continue
            add(
                leg_loc,
                f"required field '{field_name}' of {to_info.name} has neither a source nor a "
                "default: add a mapping row for it",
            )


def _writes_something(row: MappingRow) -> bool:
    if row.source is not None:
        return True
    for spec in row.transforms:
        try:
            transform = build_transform(spec)
        except TransformError:
            continue
        if transform.constant_values():
            return True
    return False


def _filled_by_system(field: FieldInfo, entity: EntityInfo) -> bool:
    """System-generated ids."""
    return field.type == "guid" and field.name in entity.key
