"""The template model: Template → Tasks → Legs → mapping rows.

A task moves one entity: Source → CDS → Destination in two legs (``source_to_cds`` and
``cds_to_destination``), or Source → Destination in one (``source_to_destination``, a *direct*
template). Projects hold the same task list (see :mod:`integrator.config`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from integrator.mapping.rows import MappingRow

__all__ = [
    "LEG_TITLES",
    "Leg",
    "LegName",
    "OrganizationEntry",
    "System",
    "Task",
    "TaskKeys",
    "Template",
    "TemplateBody",
    "describe_location",
]

System = Literal["sales", "cds", "finops"]
LegName = Literal["source_to_cds", "cds_to_destination", "source_to_destination"]
#: an entry of a connection set's organization mapping a destination field can be bound to
OrganizationEntry = Literal["cds_organization", "finops_legal_entity"]

LEG_TITLES: dict[str, str] = {
    "source_to_cds": "Source → CDS",
    "cds_to_destination": "CDS → Destination",
    "source_to_destination": "Source → Destination",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskKeys(_Strict):
    """The key fields each system matches records on (the integration keys)."""

    source: tuple[str, ...] = Field(min_length=1)
    cds: tuple[str, ...] = ()
    destination: tuple[str, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Leg:
    """One mapping leg of a task: rows writing ``to_entity`` from ``from_entity``."""

    name: LegName
    from_system: str
    from_entity: str
    to_system: str
    to_entity: str
    rows: tuple[MappingRow, ...]
    key: tuple[str, ...]
    #: destination field → the organization mapping entry it takes its value from
    bindings: Mapping[str, OrganizationEntry] = field(default_factory=dict, hash=False)

    @property
    def title(self) -> str:
        """How people name the leg: "Source → CDS", "CDS → Destination"."""
        return LEG_TITLES[self.name]


class Task(_Strict):
    """One entity flow with its filter, keys and mapping legs."""

    name: str = Field(min_length=1)
    source_entity: str = Field(min_length=1)
    cds_entity: str | None = None
    destination_entity: str = Field(min_length=1)
    source_filter: str | None = None
    keys: TaskKeys
    source_to_cds: tuple[MappingRow, ...] | None = None
    cds_to_destination: tuple[MappingRow, ...] | None = None
    source_to_destination: tuple[MappingRow, ...] | None = None
    #: per leg, destination fields whose value is an entry of the connection set's
    #: organization mapping (``cds_to_destination: {dataAreaId: finops_legal_entity}``)
    bindings: dict[LegName, dict[str, OrganizationEntry]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _bindings_name_legs_of_the_task(self) -> Task:
        legs: tuple[str, ...] = (
            ("source_to_destination",)
            if self.cds_entity is None
            else ("source_to_cds", "cds_to_destination")
        )
        wrong = [leg for leg in self.bindings if leg not in legs]
        if wrong:
            raise ValueError(
                f"bindings: this task has no leg {', '.join(wrong)} (its legs: {', '.join(legs)})"
            )
        return self

    @model_validator(mode="after")
    def _legs_match_the_flow(self) -> Task:
        if self.cds_entity is not None:
            if self.source_to_destination is not None:
                raise ValueError(
                    "a task through CDS has source_to_cds and cds_to_destination, "
                    "not source_to_destination"
                )
            if self.source_to_cds is None or self.cds_to_destination is None:
                raise ValueError("a task through CDS needs source_to_cds and cds_to_destination")
            if not self.keys.cds:
                raise ValueError("a task through CDS needs keys.cds")
        else:
            if self.source_to_cds is not None or self.cds_to_destination is not None:
                raise ValueError("a direct task (no cds_entity) has only source_to_destination")
            if self.source_to_destination is None:
                raise ValueError("a direct task (no cds_entity) needs source_to_destination")
        return self

    @property
    def is_direct(self) -> bool:
        """True when the task goes straight from source to destination, without CDS."""
        return self.cds_entity is None

    def legs(self, source_system: str, destination_system: str) -> list[Leg]:
        """The task's legs in the order they run."""
        if self.cds_entity is None:
            return [
                Leg(
                    "source_to_destination",
                    source_system,
                    self.source_entity,
                    destination_system,
                    self.destination_entity,
                    self.source_to_destination or (),
                    self.keys.destination,
                    self.bindings.get("source_to_destination", {}),
                )
            ]
        return [
            Leg(
                "source_to_cds",
                source_system,
                self.source_entity,
                "cds",
                self.cds_entity,
                self.source_to_cds or (),
                self.keys.cds,
                self.bindings.get("source_to_cds", {}),
            ),
            Leg(
                "cds_to_destination",
                "cds",
                self.cds_entity,
                destination_system,
                self.destination_entity,
                self.cds_to_destination or (),
                self.keys.destination,
                self.bindings.get("cds_to_destination", {}),
            ),
        ]


class TemplateBody(_Strict):
    """What templates and projects share: systems, prerequisites and the task list."""

    description: str | None = None
    source_system: System = "sales"
    destination_system: System = "finops"
    required_prior: tuple[str, ...] = ()
    tasks: tuple[Task, ...]

    @model_validator(mode="after")
    def _task_names_unique(self) -> TemplateBody:
        if not self.tasks:
            raise ValueError("tasks: at least one task is needed")
        names = [t.name for t in self.tasks]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"task names must be unique: {', '.join(repeated)}")
        return self

    def task(self, name: str) -> Task:
        """The task named ``name``; raises ``KeyError``."""
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(name)


class Template(TemplateBody):
    """A reusable definition of tasks, mappings and prerequisites."""

    name: str = Field(min_length=1)


def describe_location(prefix: str, data: object, loc: Sequence[int | str]) -> str:
    """A readable path to ``loc`` inside a template or project document ``data``.

    ``('tasks', 0, 'cds_to_destination', 3, 'source')`` in the project "Contacts to Contact"
    reads ``project "Contacts to Contact", task Contacts, leg CDS → Destination, row 4, source``.
    """
    parts = [prefix] if prefix else []
    rest = list(loc)
    node: Any = data
    if len(rest) >= 2 and rest[0] == "tasks" and isinstance(rest[1], int):
        task_name = None
        tasks = node.get("tasks") if isinstance(node, dict) else None
        if (
            isinstance(tasks, list)
            and 0 <= rest[1] < len(tasks)
            and isinstance(tasks[rest[1]], dict)
        ):
            task_name = tasks[rest[1]].get("name")
        parts.append(f"task {task_name}" if isinstance(task_name, str) else f"task {rest[1] + 1}")
        rest = rest[2:]
        if rest and rest[0] in LEG_TITLES:
            parts.append(f"leg {LEG_TITLES[str(rest[0])]}")
            rest = rest[1:]
            if rest and isinstance(rest[0], int):
                parts.append(f"row {rest[0] + 1}")
                rest = rest[1:]
    if rest:
        text = ""
        for part in rest:
            text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
        parts.append(text)
    return ", ".join(parts)
