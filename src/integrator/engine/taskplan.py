"""A task's plan, built once per run: its compiled legs, the source fields to read, the codec
of its records' identities, and the fingerprint of its mapping."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from integrator.config.models import OrganizationMapping
from integrator.connectors.base import Connector, EntityInfo, FieldType, KeyCollation
from integrator.engine.claims import KeyClaims
from integrator.errors import ConfigError
from integrator.mapping import CompiledMapping, compile_mapping
from integrator.odata.filter import Expr, Predicate, compile_filter, parse_filter, referenced_fields
from integrator.templates.bindings import bound_values
from integrator.templates.model import Leg, Task

__all__ = [
    "CompiledLeg",
    "KeyCodec",
    "TaskPlan",
    "TaskSystems",
    "build_plan",
    "fold_key",
    "fold_keys",
]

#: ``describe(role, entity)``: the entity as the system playing ``role`` describes it
Describe = Callable[[str, str], EntityInfo]


@dataclass
class TaskSystems:
    """The connectors a task reads from and writes to, by role."""

    source: Connector
    destination: Connector
    cds: Connector | None = None

    def for_role(self, role: str) -> Connector:
        """The connector playing ``role`` (``source``, ``cds`` or ``destination``)."""
        connector = {"source": self.source, "cds": self.cds, "destination": self.destination}[role]
        if connector is None:
            raise ConfigError(f"the connection set has no {role} connection for this task")
        return connector


def fold_key(key: Mapping[str, Any], collation: KeyCollation) -> str:
    """``key`` as the system comparing it under ``collation`` sees it: two keys are the same
    row there exactly when their folds are equal. ``dynamics`` ignores case and trailing
    spaces (SQL Server's ``=`` pads with spaces; ``_CI`` collations), accents still count."""
    fold = collation == "dynamics"
    values = [
        value.rstrip(" ").casefold() if fold and isinstance(value, str) else value
        for _, value in sorted(key.items())
    ]
    return _encode_folded(values)


def fold_keys(keys: Sequence[Mapping[str, Any]], collation: KeyCollation) -> list[str]:
    """:func:`fold_key` of each of ``keys``, which all name the same fields (one leg's keys):
    the field order is settled once for the whole list instead of once per key."""
    if not keys:
        return []
    names = sorted(keys[0])
    encode = _encode_folded
    if collation != "dynamics":
        return [encode([key[name] for name in names]) for key in keys]
    folded = []
    for key in keys:
        values = [key[name] for name in names]
        folded.append(
            encode([v.rstrip(" ").casefold() if isinstance(v, str) else v for v in values])
        )
    return folded


#: ``json.dumps(value, default=str)`` without building an encoder per call
_encode_folded = json.JSONEncoder(default=str).encode


@dataclass
class CompiledLeg:
    """One leg, compiled: its mapping, the connector it writes to, and the constants every
    record it writes carries."""

    leg: Leg
    mapping: CompiledMapping
    connector: Connector
    constants: dict[str, Any] = field(default_factory=dict)

    def key_of(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The record's key values in this leg's target entity."""
        return {name: record.get(name) for name in self.leg.key}

    @property
    def collation(self) -> KeyCollation:
        """How the system this leg writes to compares key text."""
        return self.connector.capabilities.key_collation


@dataclass(frozen=True)
class KeyCodec:
    """How a task names its source records: by primary key (``source_id``, stored in the
    history) and by integration key (``key_text``, shown to people)."""

    id_fields: tuple[str, ...]
    key_fields: tuple[str, ...]
    id_types: Mapping[str, FieldType]
    #: per leg, how its target system compares keys (see :func:`fold_key`)
    leg_collations: tuple[KeyCollation, ...] = ()

    def same_key(self, leg: int, left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
        """Whether leg ``leg``'s target system takes ``left`` and ``right`` for one row."""
        if left == right:
            return True
        collation = self.leg_collations[leg] if leg < len(self.leg_collations) else "exact"
        return collation != "exact" and fold_key(left, collation) == fold_key(right, collation)

    def source_id(self, record: Mapping[str, Any]) -> str:
        """The record's identity in the source (its primary key values, as text)."""
        return json.dumps([record.get(name) for name in self.id_fields])

    def id_values(self, source_id: str) -> dict[str, Any]:
        """The primary key values a :meth:`source_id` stands for."""
        return dict(zip(self.id_fields, json.loads(source_id), strict=True))

    def key_text(self, record: Mapping[str, Any]) -> str:
        """The record's integration key as people read it (``CON-01000-BVRCPS``)."""
        values = [record.get(name) for name in self.key_fields]
        if all(v is None for v in values):
            return f"(no {', '.join(self.key_fields)}; id {self.source_id(record)})"
        return ", ".join("" if v is None else str(v) for v in values)


@dataclass
class TaskPlan:
    """Everything a task's stages need, compiled once."""

    project: str
    task: Task
    legs: list[CompiledLeg]
    source_fields: list[str]
    codec: KeyCodec
    filter: Expr | None
    #: sha-256 of the compiled mapping (legs, constants, filter, keys): a change means the
    #: records already written may be wrong under the new mapping
    fingerprint: str
    #: per leg, the first record of this run mapped to each key (the plan lives one run): a
    #: second source record under the same key is a duplicate, not a second write
    claims: KeyClaims = field(default_factory=KeyClaims)
    _select: Predicate | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # compiled once: the filter is applied to every record the task reads
        self._select = (
            None if self.filter is None else compile_filter(self.filter, case_insensitive=True)
        )

    @property
    def name(self) -> str:
        """The task's name."""
        return self.task.name

    def selected(self, record: Mapping[str, Any]) -> bool:
        """Whether the task's source filter selects ``record`` (Dataverse string semantics)."""
        return self._select is None or self._select(record)


def build_plan(
    *,
    project: str,
    task: Task,
    legs: Sequence[Leg],
    systems: TaskSystems,
    describe: Describe,
    organization: OrganizationMapping,
) -> TaskPlan:
    """Compile ``task``'s legs against the systems' metadata; raises what ``describe`` or the
    mapping compiler raises when the task does not fit the systems."""
    expr = parse_filter(task.source_filter) if task.source_filter else None
    compiled: list[CompiledLeg] = []
    for index, leg in enumerate(legs):
        role_from = "source" if index == 0 else "cds"
        role_to = "destination" if index == len(legs) - 1 else "cds"
        source_info = describe(role_from, leg.from_entity)
        target_info = describe(role_to, leg.to_entity)
        constants: dict[str, Any] = dict(bound_values(leg, organization))
        mapping = compile_mapping(leg.rows, target_info, source_info)
        compiled.append(CompiledLeg(leg, mapping, systems.for_role(role_to), constants))
    source = describe("source", task.source_entity)
    id_fields: tuple[str, ...] = source.key or tuple(task.keys.source)
    codec = KeyCodec(
        id_fields=id_fields,
        key_fields=tuple(task.keys.source),
        id_types={name: source.fields[name].type for name in id_fields if name in source.fields},
        leg_collations=tuple(leg.collation for leg in compiled),
    )
    wanted = dict.fromkeys(compiled[0].mapping.source_fields)
    wanted.update(dict.fromkeys(task.keys.source))
    wanted.update(dict.fromkeys(id_fields))
    if expr is not None:
        wanted.update(dict.fromkeys(f.replace("/", ".") for f in referenced_fields(expr)))
    return TaskPlan(
        project=project,
        task=task,
        legs=compiled,
        source_fields=list(wanted),
        codec=codec,
        filter=expr,
        fingerprint=_fingerprint(task, compiled),
    )


def _fingerprint(task: Task, legs: Sequence[CompiledLeg]) -> str:
    described = {
        "filter": task.source_filter,
        "keys": task.keys.model_dump(mode="json"),
        "legs": [
            {
                "from": leg.leg.from_entity,
                "to": leg.leg.to_entity,
                "key": list(leg.leg.key),
                "rows": [row.model_dump(mode="json") for row in leg.leg.rows],
                "constants": leg.constants,
            }
            for leg in legs
        ],
    }
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
