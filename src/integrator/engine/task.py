"""Run one task: read the source in pages, map and upsert each page through its legs.

Per page: map leg 1 (Source → CDS), upsert into CDS by key; map leg 2 (CDS → Destination) from
the records CDS accepted, upsert into the destination by key. A record rejected in leg 1 never
reaches leg 2, and never stops the others.

Each source record's *state* remembers the key it was last written under in each leg. When a
record moves (its company changes, so its F&O contact person key changes), leaves the task's
selection (a contact becomes an active customer) or is deleted in the source, the rows it had
written and no longer maps to are removed, so the systems end as a fresh full sync of the
source would leave them. Only rows this task wrote itself are ever removed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from integrator.config.models import OrganizationMapping
from integrator.connectors.base import Connector, EntityInfo, Outcome, Record
from integrator.engine.history import Counts, RecordError, RecordState
from integrator.errors import RequestRejected
from integrator.mapping import CompiledMapping, compile_mapping
from integrator.odata.filter import (
    Compare,
    Expr,
    Field,
    Or,
    evaluate,
    parse_filter,
    referenced_fields,
    to_odata,
)
from integrator.odata.filter import Literal as FilterLiteral
from integrator.templates.bindings import bound_values
from integrator.templates.model import Leg, Task

__all__ = ["PageOutcome", "RunMode", "TaskRunner", "TaskSystems"]

log = logging.getLogger(__name__)

RunMode = Literal["incremental", "all-data", "rerun"]

#: keys re-read per request when retrying failed records (keeps URLs short)
_KEYS_PER_READ = 100

StateLookup = Callable[[Sequence[str]], Mapping[str, RecordState]]
StateSaver = Callable[[list[RecordState]], None]


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
            raise RequestRejected(f"no {role} connection for this task")
        return connector


@dataclass
class _CompiledLeg:
    leg: Leg
    mapping: CompiledMapping
    connector: Connector
    constants: dict[str, Any] = field(default_factory=dict)

    def key_of(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {name: record.get(name) for name in self.leg.key}


@dataclass
class PageOutcome:
    """What one page did: counts, failed records, record states to save or forget."""

    counts: Counts
    errors: list[RecordError] = field(default_factory=list)
    states: list[RecordState] = field(default_factory=list)
    forget: list[str] = field(default_factory=list)
    #: source ids the page saw (read, or reported deleted)
    seen: list[str] = field(default_factory=list)
    removed: int = 0


@dataclass
class _Plan:
    """A page mapped through every leg, before anything is written."""

    #: per record position, the key it is meant to get in each leg (None: it won't get there)
    intended: list[list[dict[str, Any] | None]]
    #: per leg, the mapped records and the position each came from
    legs: list[tuple[list[Record], list[int]]] = field(default_factory=list)
    failed: set[int] = field(default_factory=set)


@dataclass
class _Stale:
    """A row a record wrote in ``leg`` and no longer maps to."""

    leg: int
    key: dict[str, Any]
    source_id: str


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
            constants: dict[str, Any] = dict(bound_values(leg, organization))
            mapping = compile_mapping(leg.rows, target_info, source_info)
            self.legs.append(_CompiledLeg(leg, mapping, systems.for_role(role_to), constants))
        source = describe("source", task.source_entity)
        self.id_fields: tuple[str, ...] = source.key or tuple(task.keys.source)
        self.id_types = {name: source.fields[name].type for name in self.id_fields}
        wanted = dict.fromkeys(self.legs[0].mapping.source_fields)
        wanted.update(dict.fromkeys(task.keys.source))
        wanted.update(dict.fromkeys(self.id_fields))
        if self.filter is not None:
            filtered = referenced_fields(self.filter)
            wanted.update(dict.fromkeys(f.replace("/", ".") for f in filtered))
        self.source_fields = list(wanted)
        #: whether the last :meth:`read_pages` read every record the task selects, not changes
        #: since a checkpoint: then a record with a state that it did not see is gone
        self.full_read = False

    # -- identities ----------------------------------------------------------------------------

    def source_id(self, record: Mapping[str, Any]) -> str:
        """The record's identity in the source (its primary key values, as text)."""
        return json.dumps([record.get(name) for name in self.id_fields])

    def id_values(self, source_id: str) -> dict[str, Any]:
        """The primary key values a :meth:`source_id` stands for."""
        return dict(zip(self.id_fields, json.loads(source_id), strict=True))

    def key_text(self, record: Mapping[str, Any]) -> str:
        """The record's integration key as people read it (``CON-01000-BVRCPS``)."""
        values = [record.get(name) for name in self.task.keys.source]
        if all(v is None for v in values):
            return f"(no {', '.join(self.task.keys.source)}; id {self.source_id(record)})"
        return ", ".join("" if v is None else str(v) for v in values)

    def selected(self, record: Mapping[str, Any]) -> bool:
        """Whether the task's source filter selects ``record`` (Dataverse string semantics)."""
        return self.filter is None or evaluate(self.filter, record, case_insensitive=True)

    # -- reading -------------------------------------------------------------------------------

    def read_pages(
        self, mode: RunMode, checkpoint: str | None, notes: list[str]
    ) -> Iterator[tuple[list[Record], list[str], str | None]]:
        """Pages of source records with the source ids deleted since the checkpoint, and the
        checkpoint to store once the page is done (``None`` until the feed says where)."""
        source = self.systems.source
        entity = self.task.source_entity
        caps = source.capabilities
        if caps.change_tracking or caps.watermark_reads:
            start = None if mode == "all-data" else checkpoint
            self.full_read = start is None
            try:
                yield from self._changes(entity, start)
            except RequestRejected as error:
                if error.code != "checkpoint-expired" or start is None:
                    raise
                notes.append(
                    f"task {self.task.name}: the source no longer knows the change-tracking "
                    "checkpoint (it expired); all data was read instead"
                )
                log.warning(notes[-1])
                self.full_read = True
                yield from self._changes(entity, None)
            return
        self.full_read = True
        for page in source.read(entity, self.source_fields, filter=self.task.source_filter):
            yield page, [], None

    def _changes(
        self, entity: str, checkpoint: str | None
    ) -> Iterator[tuple[list[Record], list[str], str | None]]:
        for batch in self.systems.source.read_changes(
            entity, self.source_fields, checkpoint=checkpoint
        ):
            deleted = [self.source_id(key) for key in batch.deleted]
            yield batch.records, deleted, batch.checkpoint

    def read_ids(self, source_ids: Sequence[str]) -> Iterator[tuple[list[Record], list[str]]]:
        """Pages of the source records with the given ids (filter not applied, so records that
        left the selection are seen), each with the ids the source no longer has."""
        for start in range(0, len(source_ids), _KEYS_PER_READ):
            chunk = list(source_ids[start : start + _KEYS_PER_READ])
            alternatives: list[Expr] = [
                _equals(name, value, self.id_types.get(name))
                for source_id in chunk
                for name, value in self.id_values(source_id).items()
            ]
            expr: Expr = alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives))
            found: list[Record] = []
            source = self.systems.source
            entity, fields = self.task.source_entity, self.source_fields
            for page in source.read(entity, fields, filter=to_odata(expr)):
                found.extend(page)
            present = {self.source_id(r) for r in found}
            yield found, [i for i in chunk if i not in present]

    # -- one page ------------------------------------------------------------------------------

    def process(
        self,
        page: Sequence[Record],
        deleted: Sequence[str],
        known: StateLookup,
        write_ahead: StateSaver | None = None,
    ) -> PageOutcome:
        """Push one page through every leg, then remove the rows records no longer map to.

        Before anything is written, the keys each record is about to be written under are
        added to its state and saved through ``write_ahead`` (when new), so a run killed
        between the writes and the page's commit leaves no row that no state knows about.
        """
        ids = [self.source_id(r) for r in page]
        prior = known([*ids, *deleted])
        outcome = PageOutcome(Counts(), seen=[*ids, *deleted])
        chosen = [i for i, record in enumerate(page) if self.selected(record)]
        outcome.counts.read = len(chosen)
        records = [page[i] for i in chosen]
        legs = len(self.legs)
        plan = self._map_all(records, outcome)

        # every key a record may have rows under, per leg: what its state knew plus (written
        # ahead) the key it is about to get
        keys: dict[str, list[list[dict[str, Any]]]] = {}
        ahead: list[RecordState] = []
        for position, index in enumerate(chosen):
            source_id = ids[index]
            before = prior.get(source_id)
            known_keys = _keys_by_leg(before, legs)
            grew = False
            for leg, key in enumerate(plan.intended[position]):
                if key is not None and key not in known_keys[leg]:
                    known_keys[leg].append(key)
                    grew = True
            keys[source_id] = known_keys
            if grew:
                ahead.append(
                    RecordState(source_id, self.key_text(page[index]), known_keys, pending=True)
                )
        if ahead and write_ahead is not None:
            write_ahead([_copy(state) for state in ahead])

        written, failed = self._upsert_all(records, plan, outcome)
        stale: list[_Stale] = []
        states: dict[str, RecordState] = {}
        for position, index in enumerate(chosen):
            record, source_id = page[index], ids[index]
            before = prior.get(source_id)
            if position in failed:
                state = RecordState(source_id, self.key_text(record), keys[source_id], True)
                if before is None or before != state:
                    states[source_id] = state
                continue
            final: list[list[dict[str, Any]]] = []
            for leg, candidates in enumerate(keys[source_id]):
                new = written[position][leg] if leg < len(written[position]) else None
                stale.extend(_Stale(leg, key, source_id) for key in candidates if key != new)
                final.append([new] if new is not None else [])
            state = RecordState(source_id, self.key_text(record), final, False)
            if before is None or before != state:
                states[source_id] = state
        chosen_set = set(chosen)
        left = [ids[i] for i in range(len(page)) if i not in chosen_set]
        leaving: list[str] = []
        for source_id in [*left, *deleted]:
            before = prior.get(source_id)
            if before is None:
                continue
            for leg, candidates in enumerate(_keys_by_leg(before, legs)):
                stale.extend(_Stale(leg, key, source_id) for key in candidates)
            states[source_id] = RecordState(
                source_id, before.record_key, [[] for _ in range(legs)], False
            )
            leaving.append(source_id)
        if stale:
            self._remove(stale, states, outcome)
        for source_id in leaving:
            if not states[source_id].pending:  # every row it had is gone: forget it
                del states[source_id]
                outcome.forget.append(source_id)
        outcome.states = list(states.values())
        return outcome

    def _map_all(self, records: list[Record], outcome: PageOutcome) -> _Plan:
        """Map every leg (mapping is pure, nothing is written): each leg's records with the
        position each came from, and the key every record is meant to get in every leg."""
        plan = _Plan(intended=[[None] * len(self.legs) for _ in records])
        origin = list(range(len(records)))
        current: list[Record] = records
        for index, leg in enumerate(self.legs):
            mapped = leg.mapping.apply(current)
            for problem in mapped.errors:
                position = origin[problem.index]
                plan.failed.add(position)
                outcome.errors.append(
                    self._error(records[position], leg.leg, problem.field, problem.message)
                )
            origin = [origin[i] for i in mapped.indexes]
            if leg.constants:
                for record in mapped.records:
                    record.update(leg.constants)
            for record, position in zip(mapped.records, origin, strict=True):
                plan.intended[position][index] = leg.key_of(record)
            plan.legs.append((mapped.records, origin))
            current = mapped.records
        return plan

    def _upsert_all(
        self, records: list[Record], plan: _Plan, outcome: PageOutcome
    ) -> tuple[dict[int, list[dict[str, Any]]], set[int]]:
        """Upsert each leg's mapped records, a leg only taking those the previous accepted;
        the key each record got in each leg, and the positions of those that failed."""
        failed = set(plan.failed)
        keys: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(records))}
        outcomes: dict[int, list[Outcome]] = {i: [] for i in range(len(records))}
        alive: set[int] | None = None
        for leg, (mapped, origin) in zip(self.legs, plan.legs, strict=True):
            pairs = [
                (record, position)
                for record, position in zip(mapped, origin, strict=True)
                if alive is None or position in alive
            ]
            batch = [record for record, _ in pairs]
            results = (
                leg.connector.upsert(leg.leg.to_entity, batch, key=leg.leg.key) if batch else []
            )
            alive = set()
            for (record, position), result in zip(pairs, results, strict=True):
                if result.outcome == Outcome.ERROR:
                    failed.add(position)
                    message = result.message or "refused without a message"
                    outcome.errors.append(
                        self._error(records[position], leg.leg, result.field, message)
                    )
                    continue
                outcomes[position].append(result.outcome)
                keys[position].append(leg.key_of(record))
                alive.add(position)
        counts = outcome.counts
        counts.errors += len(failed)
        for position in alive or set():
            if position in failed:
                continue
            final = _combine(outcomes[position])
            if final == Outcome.INSERTED:
                counts.inserted += 1
            elif final == Outcome.UPDATED:
                counts.updated += 1
            else:
                counts.unchanged += 1
        return keys, failed

    def _remove(
        self, stale: list[_Stale], states: dict[str, RecordState], outcome: PageOutcome
    ) -> None:
        """Delete stale rows, the destination's before CDS's; a refusal keeps that key in the
        record's state (pending) so the next run tries again."""
        for leg_index in sorted({s.leg for s in stale}, reverse=True):
            leg = self.legs[leg_index]
            items = [s for s in stale if s.leg == leg_index]
            results = leg.connector.delete(leg.leg.to_entity, [s.key for s in items])
            for item, result in zip(items, results, strict=True):
                if result.outcome == Outcome.DELETED:
                    outcome.removed += 1
                if result.outcome != Outcome.ERROR:
                    continue
                state = states[item.source_id]
                state.leg_keys[leg_index].append(item.key)
                state.pending = True
                outcome.errors.append(
                    RecordError(
                        task=self.task.name,
                        leg=leg.leg.title,
                        key=state.record_key,
                        field=result.field,
                        message="could not remove the row this record no longer maps to "
                        f"({_key_text(item.key)}): {result.message}",
                        source_key=self.id_values(item.source_id),
                    )
                )
                outcome.counts.errors += 1

    def _error(
        self, record: Mapping[str, Any], leg: Leg, field_name: str | None, message: str
    ) -> RecordError:
        return RecordError(
            task=self.task.name,
            leg=leg.title,
            key=self.key_text(record),
            field=field_name,
            message=message,
            source_key={name: record.get(name) for name in self.id_fields},
        )


def _keys_by_leg(state: RecordState | None, legs: int) -> list[list[dict[str, Any]]]:
    """Every key a state says its record may have rows under, per leg (older states kept one
    key or ``None`` per leg)."""
    result: list[list[dict[str, Any]]] = []
    for leg in range(legs):
        entry = state.leg_keys[leg] if state is not None and leg < len(state.leg_keys) else None
        if entry is None:
            result.append([])
        elif isinstance(entry, dict):
            result.append([entry])
        else:
            result.append([dict(key) for key in entry])
    return result


def _copy(state: RecordState) -> RecordState:
    return RecordState(
        state.source_id, state.record_key, [list(keys) for keys in state.leg_keys], state.pending
    )


def _key_text(key: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {value!r}" for name, value in key.items())


def _combine(outcomes: Sequence[Outcome]) -> Outcome:
    """A record's outcome across legs: inserted when the last leg inserted it, updated when any
    leg changed something, else unchanged."""
    if outcomes and outcomes[-1] == Outcome.INSERTED:
        return Outcome.INSERTED
    if any(o in (Outcome.INSERTED, Outcome.UPDATED) for o in outcomes):
        return Outcome.UPDATED
    return Outcome.UNCHANGED


def _equals(name: str, value: Any, field_type: str | None) -> Compare:
    if value is None:
        return Compare("eq", Field(name), FilterLiteral(None, "null"))
    if field_type == "guid":
        return Compare("eq", Field(name), FilterLiteral(str(value).lower(), "guid"))
    if isinstance(value, bool):
        return Compare("eq", Field(name), FilterLiteral(value, "boolean"))
    if isinstance(value, int):
        return Compare("eq", Field(name), FilterLiteral(value, "integer"))
    return Compare("eq", Field(name), FilterLiteral(str(value), "string"))
