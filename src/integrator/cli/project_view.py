"""How a project looks in ``integrator project show``: per task and leg, the mapping grid of
Data Integrator's screenshots (SOURCE FIELD | MAP TYPE | DESTINATION FIELD | TEMPLATE VALUE),
the source filter and the prerequisites; and the same as one ``--json`` document."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from integrator.cli.plain import PlainTable
from integrator.config.models import Project
from integrator.mapping import MappingRow
from integrator.mapping.catalog import describe_chain, template_value
from integrator.templates.model import Leg

__all__ = ["SYSTEM_NAMES", "print_project", "project_json"]

#: how people name the systems
SYSTEM_NAMES = {"sales": "Sales", "cds": "CDS", "finops": "F&O"}


def _system(name: str) -> str:
    return SYSTEM_NAMES.get(name, name)


def _schedule_text(project: Project) -> str:
    schedule = project.schedule
    if schedule is None:
        return "Run manually"
    start = f", starting at {schedule.starting_at.isoformat()}" if schedule.starting_at else ""
    return f"Recur every {schedule.every} {schedule.unit}{start}"


def _plain(value: Any) -> Any:
    """``value`` as plain JSON types (the YAML loader's keys and strings are subclasses)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


def _row_json(row: MappingRow) -> dict[str, Any]:
    return {
        "source": row.source,
        "map_type": row.map_type,
        "destination": row.destination,
        "template_value": _plain(template_value(row.transforms)),
        "transforms": [_plain({"type": spec.type, **spec.params}) for spec in row.transforms],
    }


def _leg_json(leg: Leg) -> dict[str, Any]:
    return {
        "name": leg.name,
        "title": leg.title,
        "from": {"system": leg.from_system, "entity": leg.from_entity},
        "to": {"system": leg.to_system, "entity": leg.to_entity},
        "key": list(leg.key),
        "rows": [_row_json(row) for row in leg.rows],
        "bindings": dict(leg.bindings),
    }


def project_json(name: str, file: str, project: Project) -> dict[str, Any]:
    """``{"project", "file", "template", "connection_set", "required_prior", "schedule",
    "tasks": [{"name", "source_entity", "cds_entity", "destination_entity", "source_filter",
    "legs": [{"name", "title", "from", "to", "key", "rows": [{"source", "map_type",
    "destination", "template_value", "transforms"}], "bindings": {field: entry}}]}]}``."""
    return {
        "project": name,
        "file": file,
        "template": project.template,
        "connection_set": project.connection_set,
        "required_prior": list(project.required_prior),
        "schedule": None if project.schedule is None else project.schedule.model_dump(mode="json"),
        "tasks": [
            {
                "name": task.name,
                "source_entity": task.source_entity,
                "cds_entity": task.cds_entity,
                "destination_entity": task.destination_entity,
                "source_filter": task.source_filter,
                "legs": [
                    _leg_json(leg)
                    for leg in task.legs(project.source_system, project.destination_system)
                ],
            }
            for task in project.tasks
        ],
    }


def _leg_heading(leg: Leg) -> Text:
    return Text.assemble(
        (leg.title, "bold"),
        f": {_system(leg.from_system)} {leg.from_entity} → {_system(leg.to_system)} "
        f"{leg.to_entity} (key: {', '.join(leg.key)})",
    )


def _grid(leg: Leg) -> PlainTable:
    table = PlainTable()
    for header in ("SOURCE FIELD", "MAP TYPE", "DESTINATION FIELD", "TEMPLATE VALUE"):
        table.add_column(header, overflow="fold", justify="center" if "TYPE" in header else "left")
    table.add_column("TRANSFORMS", overflow="fold")
    for row in leg.rows:
        value = template_value(row.transforms)
        table.add_row(
            row.source or "",
            row.map_type,
            row.destination,
            "" if value is None else str(value),
            describe_chain(row.transforms),
        )
    return table


def print_project(console: Console, name: str, file: str, project: Project) -> None:
    """The project's settings, then each task: its entities, source filter, keys and one
    mapping grid per leg."""
    console.print(Text.assemble(("Project ", "bold"), (name, "bold"), f"  ({file})"))
    console.print(f"Template: {project.template or '(none)'}", markup=False)
    console.print(f"Connection set: {project.connection_set}", markup=False)
    console.print(
        "Sync tasks required prior: " + (", ".join(project.required_prior) or "none"),
        markup=False,
    )
    console.print(f"Schedule: {_schedule_text(project)}", markup=False)
    for position, task in enumerate(project.tasks, 1):
        flow = [f"{_system(project.source_system)} {task.source_entity}"]
        if task.cds_entity is not None:
            flow.append(f"CDS {task.cds_entity}")
        flow.append(f"{_system(project.destination_system)} {task.destination_entity}")
        console.print()
        console.print(
            Text.assemble((f"Task {position}: {task.name}", "bold"), "  ", " → ".join(flow))
        )
        console.print(f"  Source filter: {task.source_filter or '(none)'}", markup=False)
        for leg in task.legs(project.source_system, project.destination_system):
            console.print()
            console.print(_leg_heading(leg))
            console.print(_grid(leg))
            for field_name, entry in leg.bindings.items():
                console.print(
                    f"  {field_name} ← organization mapping {entry} "
                    f"(connection set {project.connection_set})",
                    markup=False,
                )
