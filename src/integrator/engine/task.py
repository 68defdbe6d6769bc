"""Run one task: read the source in pages, map and upsert each page through its legs.

Per page: map leg 1 (Source → CDS), upsert into CDS by key; map leg 2 (CDS → Destination) from
the records CDS accepted, upsert into the destination by key; then the page's counts, failed
records and (on the last page of a change feed) the new checkpoint are committed together in
the history. A record rejected in leg 1 never reaches leg 2, and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from integrator.config.models import OrganizationMapping
from integrator.connectors.base import Connector, EntityInfo, Outcome, Record, RecordResult
from integrator.engine.history import Counts, RecordError
from integrator.errors import RequestRejected
from integrator.mapping import CompiledMapping, compile_mapping
from integrator.odata.filter import (
    And,
    Compare,
    Expr,
    Field,
    Or,
    evaluate,
    parse_filter,
    referenced_fields,
    to_odata,
)
from integrator.odata.filter import (
    Literal as FilterLiteral,
)
from integrator.templates.model import Leg, Task

__all__ = ["RunMode", "TaskRunner", "TaskSystems"]

log = logging.getLogger(__name__)

RunMode = Literal["incremental", "all-data", "rerun"]

#: keys re-read per request when retrying failed records (keeps URLs short)
_KEYS_PER_READ = 50


@dataclass
class TaskSystems:
    """The connectors a task reads from and writes to, by role."""

    source: Connector
    destination: Connector
    cds: Connector | None = None

    def for_system(self, role: str) -> Connector:
        """The connector playing ``role`` (``source``, ``cds`` or ``destination``)."""
        connector = {"source": self.source, "cds": self.cds, "destination": self.destination}[role]
        if connector is None:
            raise RequestRejected(f"no {role} connection for this task")
        return connector


@dataclass
class _CompiledLeg:
    leg: Leg
    mapping: CompiledMapping
    connector: Connector
    constants: dict[str, Any] = field(default_factory=dict)

    def map(self, records: Sequence[Record]) -> tuple[list[Record], list[int], list[Any]]:
        mapped = self.mapping.apply(records)
        if self.constants:
            for record in mapped.records:
                record.update(self.constants)
        return mapped.records, mapped.indexes, mapped.errors

    def upsert(self, records: Sequence[Record]) -> list[RecordResult]:
        if not records:
            return []
        return self.connector.upsert(self.leg.to_entity, records, key=self.leg.key)


class TaskRunner:
    """Runs one task of a project run; compiled once, then fed pages."""

    def __init__(
        self,
        *,
        project: str,
        task: Task,
        legs: Sequence[Leg],
        systems: TaskSystems,
        describe: Callable[[str, str], EntityInfo],
        organization: OrganizationMapping,
    ) -> None:
        self.project = project
        self.task = task
        self.systems = systems
        self.filter: Expr | None = parse_filter(task.source_filter) if task.source_filter else None
        self.legs: list[_CompiledLeg] = []
        for index, leg in enumerate(legs):
            role_from = "source" if index == 0 else "cds"
            role_to = "destination" if index == len(legs) - 1 else "cds"
            source_info = describe(role_from, leg.from_entity)
            target_info = describe(role_to, leg.to_entity)
            constants = _organization_constants(leg, target_info, organization, role_to)
            mapping = compile_mapping(leg.rows, target_info, source_info)
            self.legs.append(_CompiledLeg(leg, mapping, systems.for_system(role_to), constants))
        wanted = dict.fromkeys(self.legs[0].mapping.source_fields)
        wanted.update(dict.fromkeys(task.keys.source))
        if self.filter is not None:
            wanted.update(
                dict.fromkeys(f.replace("/", ".") for f in referenced_fields(self.filter))
            )
        self.source_fields = list(wanted)

    # -- reading -------------------------------------------------------------------------------

    def _matches(self, records: Sequence[Record]) -> list[Record]:
        if self.filter is None:
            return list(records)
        expr = self.filter
        return [r for r in records if evaluate(expr, r, case_insensitive=True)]

    def read_pages(
        self, mode: RunMode, checkpoint: str | None, notes: list[str]
    ) -> Iterator[tuple[list[Record], str | None]]:
        """Pages of source records selected by the task's filter, each with the checkpoint to
        store once the page is done (``None`` but on the last page of a change feed)."""
        source = self.systems.source
        entity = self.task.source_entity
        caps = source.capabilities
        if caps.change_tracking or caps.watermark_reads:
            start = None if mode == "all-data" else checkpoint
            try:
                yield from self._changes(entity, start)
            except RequestRejected as error:
                if error.code != "checkpoint-expired" or start is None:
                    raise
                notes.append(
                    f"task {self.task.name}: the change-tracking checkpoint expired "
                    "(the source no longer knows it); read all data instead"
                )
                log.warning(notes[-1])
                yield from self._changes(entity, None)
            return
        for page in source.read(entity, self.source_fields, filter=self.task.source_filter):
            yield (self._matches(page) if not caps.filter_pushdown else page), None

    def _changes(
        self, entity: str, checkpoint: str | None
    ) -> Iterator[tuple[list[Record], str | None]]:
        for batch in self.systems.source.read_changes(
            entity, self.source_fields, checkpoint=checkpoint
        ):
            yield self._matches(batch.records), batch.checkpoint

    def read_keys(self, keys: Sequence[Mapping[str, Any]]) -> Iterator[list[Record]]:
        """Pages of the source records with the given key values (still under the filter)."""
        for start in range(0, len(keys), _KEYS_PER_READ):
            chunk = keys[start : start + _KEYS_PER_READ]
            alternatives: list[Expr] = []
            for key in chunk:
                parts: list[Expr] = [
                    Compare("eq", Field(name), FilterLiteral(value, _kind(value)))
                    for name, value in key.items()
                ]
                alternatives.append(parts[0] if len(parts) == 1 else And(tuple(parts)))
            by_key: Expr = alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives))
            expr = by_key if self.filter is None else And((self.filter, by_key))
            source = self.systems.source
            for page in source.read(
                self.task.source_entity, self.source_fields, filter=to_odata(expr)
            ):
                yield self._matches(page)

    # -- one page --------------------------------------------------------------------------

    def source_key(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The record's source key values."""
        return {name: record.get(name) for name in self.task.keys.source}

    def key_text(self, record: Mapping[str, Any]) -> str:
        """The record's source key as people read it (``CON-01000-BVRCPS``)."""
        values = [record.get(name) for name in self.task.keys.source]
        if all(v is None for v in values):
            return f"(no {', '.join(self.task.keys.source)})"
        return ", ".join("" if v is None else str(v) for v in values)

    def process(self, page: Sequence[Record]) -> tuple[Counts, list[RecordError]]:
        """Push one page of source records through every leg; counts and failed records."""
        counts = Counts(read=len(page))
        errors: list[RecordError] = []
        # origin[i] = index in ``page`` of the i-th record travelling through the legs
        origin = list(range(len(page)))
        current: list[Record] = list(page)
        outcomes: dict[int, list[Outcome]] = {i: [] for i in origin}
        for leg in self.legs:
            mapped, kept, field_errors = leg.map(current)
            for problem in field_errors:
                source_index = origin[problem.index]
                errors.append(
                    self._error(page[source_index], leg.leg, problem.field, problem.message)
                )
            origin = [origin[i] for i in kept]
            results = leg.upsert(mapped)
            accepted: list[Record] = []
            accepted_origin: list[int] = []
            for record, source_index, result in zip(mapped, origin, results, strict=True):
                if result.outcome == Outcome.ERROR:
                    errors.append(
                        self._error(
                            page[source_index],
                            leg.leg,
                            result.field,
                            result.message or "rejected without a message",
                        )
                    )
                    continue
                outcomes[source_index].append(result.outcome)
                accepted.append(record)
                accepted_origin.append(source_index)
            current, origin = accepted, accepted_origin
        counts.errors = len(page) - len(origin)
        for source_index in origin:
            final = _combine(outcomes[source_index])
            if final == Outcome.INSERTED:
                counts.inserted += 1
            elif final == Outcome.UPDATED:
                counts.updated += 1
            else:
                counts.unchanged += 1
        return counts, errors

    def _error(
        self, record: Mapping[str, Any], leg: Leg, field_name: str | None, message: str
    ) -> RecordError:
        return RecordError(
            task=self.task.name,
            leg=leg.title,
            key=self.key_text(record),
            field=field_name,
            message=message,
            source_key=self.source_key(record),
        )


def _combine(outcomes: Sequence[Outcome]) -> Outcome:
    """A record's outcome across legs: inserted when the last leg inserted it, updated when any
    leg changed something, else unchanged."""
    if outcomes and outcomes[-1] == Outcome.INSERTED:
        return Outcome.INSERTED
    if any(o in (Outcome.INSERTED, Outcome.UPDATED) for o in outcomes):
        return Outcome.UPDATED
    return Outcome.UNCHANGED


def _kind(value: Any) -> Any:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "decimal"
    return "string"


def _organization_constants(
    leg: Leg, target: EntityInfo, organization: OrganizationMapping, role: str
) -> dict[str, Any]:
    """``dataAreaId`` of an F&O destination comes from the organization mapping, unless the
    leg maps it itself."""
    mapped = {row.destination for row in leg.rows}
    if role == "destination" and "dataAreaId" in target.fields and "dataAreaId" not in mapped:
        return {"dataAreaId": organization.finops_legal_entity}
    return {}
