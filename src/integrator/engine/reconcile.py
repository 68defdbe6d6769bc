"""Reconciliation, a pure function of what a page did: prior states + the mapped page + the
write results → new states, stale rows to remove, ids to forget, counts and failed records.

Nothing here reads or writes a system or the history: the runner hands the prior states in
and commits what comes out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrator.connectors.base import Outcome, RecordResult
from integrator.engine.history import (
    Counts,
    RecordError,
    RecordFailure,
    RecordState,
    Truncation,
)
from integrator.engine.pages import Key, MappedPage, Reconciliation, RecordProblem, Stale
from integrator.engine.retry import failed_again
from integrator.engine.taskplan import KeyCodec

__all__ = [
    "PageResult",
    "TaskShape",
    "combine",
    "keys_by_leg",
    "reconcile",
    "settle_removals",
    "truncations",
    "written_ahead",
]


@dataclass(frozen=True)
class TaskShape:
    """What reconciliation needs to know of a task: its name, its legs' titles (as failed
    records name them) and how its records are named."""

    task: str
    leg_titles: tuple[str, ...]
    codec: KeyCodec

    @property
    def legs(self) -> int:
        """How many legs the task has."""
        return len(self.leg_titles)


@dataclass
class PageResult:
    """Reconciliation's answer for one page, before and after its stale rows are removed."""

    reconciliation: Reconciliation
    counts: Counts
    errors: list[RecordError]
    prior: Mapping[str, RecordState]
    #: values Truncate shortened in the records the page wrote
    truncations: list[Truncation] = field(default_factory=list)
    #: rows removed (after :func:`settle_removals`)
    removed: int = 0
    forget: list[str] = field(default_factory=list)

    @property
    def states(self) -> list[RecordState]:
        """The states to save."""
        return list(self.reconciliation.states.values())


def keys_by_leg(state: RecordState | None, legs: int) -> list[list[Key]]:
    """Every key a state says its record may have rows under, per leg (older states kept one
    key or ``None`` per leg)."""
    result: list[list[Key]] = []
    for leg in range(legs):
        entry = state.leg_keys[leg] if state is not None and leg < len(state.leg_keys) else None
        if entry is None:
            result.append([])
        elif isinstance(entry, dict):
            result.append([entry])
        else:
            result.append([dict(key) for key in entry])
    return result


def written_ahead(
    prior: Mapping[str, RecordState], mapped: MappedPage, legs: int
) -> tuple[dict[str, list[list[Key]]], list[RecordState]]:
    """Every key each selected record may have rows under once the page is written (what its
    state knew plus the key it is about to get), and the states that grew: to be saved
    *before* the writes, so a run killed between the writes and the commit leaves no row that
    no state knows about."""
    keys: dict[str, list[list[Key]]] = {}
    ahead: list[RecordState] = []
    for position, source_id in enumerate(mapped.ids):
        before = prior.get(source_id)
        known = keys_by_leg(before, legs)
        grew = False
        for leg, key in enumerate(mapped.intended[position]):
            if key is not None and key not in known[leg]:
                known[leg].append(key)
                grew = True
        keys[source_id] = known
        if grew:
            ahead.append(
                RecordState(
                    source_id,
                    mapped.record_keys[position],
                    [list(k) for k in known],
                    pending=True,
                    failure=before.failure if before is not None else None,
                )
            )
    return keys, ahead


def reconcile(
    shape: TaskShape,
    prior: Mapping[str, RecordState],
    mapped: MappedPage,
    written: Sequence[Sequence[Key]],
    outcomes: Sequence[Sequence[Outcome]],
    problems: Sequence[RecordProblem],
    *,
    run_id: int,
    now: datetime,
    keys: Mapping[str, list[list[Key]]] | None = None,
) -> PageResult:
    """The new state of every record the page touched, the rows to remove, the counts and the
    failed records.

    A selected record that succeeded keeps only the keys it was just written under; every
    other key it may have rows under is stale. One that failed keeps every key (pending, with
    how it failed: the same way as last time makes it *still failing*). A record the page no
    longer selects, or the source deleted, has all its rows stale and leaves the task once
    they are gone. Only changed states are returned. ``keys`` are :func:`written_ahead`'s
    (computed when not given).
    """
    if keys is None:
        keys, _ = written_ahead(prior, mapped, shape.legs)
    by_position: dict[int, list[RecordProblem]] = {}
    for problem in problems:
        by_position.setdefault(problem.position, []).append(problem)
    counts = Counts(read=len(mapped.selected))
    stale: list[Stale] = []
    states: dict[str, RecordState] = {}
    same_way: dict[int, bool] = {}
    for position, source_id in enumerate(mapped.ids):
        before = prior.get(source_id)
        record_key = mapped.record_keys[position]
        failures = by_position.get(position)
        if failures:
            signature = [[shape.leg_titles[p.leg], p.field, p.message] for p in failures]
            failure, same = failed_again(
                before.failure if before is not None else None,
                signature,
                transient=any(p.transient for p in failures),
                run_id=run_id,
                now=now,
            )
            counts.errors += 1
            counts.still_failing += int(same)
            same_way[position] = same
            states[source_id] = RecordState(source_id, record_key, keys[source_id], True, failure)
            continue
        final: list[list[Key]] = []
        for leg, candidates in enumerate(keys[source_id]):
            new = written[position][leg] if leg < len(written[position]) else None
            # a key the system takes for the new one (case, trailing spaces) is the same row
            stale.extend(
                Stale(leg, key, source_id)
                for key in candidates
                if new is None or not shape.codec.same_key(leg, key, new)
            )
            final.append([new] if new is not None else [])
        outcome = combine(outcomes[position])
        if outcome == Outcome.INSERTED:
            counts.inserted += 1
        elif outcome == Outcome.UPDATED:
            counts.updated += 1
        else:
            counts.unchanged += 1
        state = RecordState(source_id, record_key, final, False)
        if before is None or before != state:
            states[source_id] = state
    leaving: list[str] = []
    for source_id in [*mapped.left, *mapped.deleted]:
        before = prior.get(source_id)
        if before is None:
            continue
        for leg, candidates in enumerate(keys_by_leg(before, shape.legs)):
            stale.extend(Stale(leg, key, source_id) for key in candidates)
        states[source_id] = RecordState(
            source_id, before.record_key, [[] for _ in range(shape.legs)], False
        )
        leaving.append(source_id)
    errors = [  # in the order they happened: mapping first, then each leg's writes
        RecordError(
            task=shape.task,
            leg=shape.leg_titles[p.leg],
            key=mapped.record_keys[p.position],
            field=p.field,
            message=p.message,
            source_key=_source_key(shape.codec, mapped.selected[p.position]),
            transient=p.transient,
            still_failing=same_way[p.position],
        )
        for p in problems
    ]
    return PageResult(
        Reconciliation(states, stale, leaving),
        counts,
        errors,
        prior,
        truncations=truncations(shape, mapped, written),
    )


def truncations(
    shape: TaskShape, mapped: MappedPage, written: Sequence[Sequence[Key]]
) -> list[Truncation]:
    """The values Truncate shortened, per leg and field, counting only records written in
    that leg (a record that failed there sent nothing)."""
    totals: dict[tuple[int, str], Truncation] = {}
    for position, leg, cut in mapped.shortened:
        if leg >= len(written[position]):
            continue
        total = totals.get((leg, cut.field))
        if total is None:
            totals[(leg, cut.field)] = Truncation(
                shape.leg_titles[leg], cut.field, cut.limit, 1, cut.length
            )
        else:
            total.count += 1
            total.longest = max(total.longest, cut.length)
    return [totals[k] for k in sorted(totals)]


def settle_removals(
    shape: TaskShape,
    result: PageResult,
    answers: Sequence[tuple[Stale, RecordResult]],
    *,
    run_id: int,
    now: datetime,
) -> PageResult:
    """Fold the systems' answers to the removal of stale rows into ``result``: a refused
    removal keeps that key in the record's state (pending, so a later run tries again) and is
    a failed record; a record leaving the task whose rows are all gone is forgotten."""
    states = result.reconciliation.states
    refused: dict[str, list[tuple[Stale, RecordResult]]] = {}
    for item, answer in answers:
        if answer.outcome == Outcome.DELETED:
            result.removed += 1
        if answer.outcome == Outcome.ERROR:
            refused.setdefault(item.source_id, []).append((item, answer))
    for source_id, items in refused.items():
        state = states[source_id]
        messages: list[tuple[str, str | None, str]] = []
        for item, answer in items:
            state.leg_keys[item.leg].append(item.key)
            messages.append(
                (
                    shape.leg_titles[item.leg],
                    answer.field,
                    "could not remove the row this record no longer maps to "
                    f"({_key_text(item.key)}): {answer.message}",
                )
            )
        # only records that wrote (or left) have stale rows: this is the record's one failure
        before = result.prior.get(source_id)
        prior_failure: RecordFailure | None = before.failure if before is not None else None
        failure, same = failed_again(
            prior_failure,
            [list(m) for m in messages],
            transient=any(answer.transient for _, answer in items),
            run_id=run_id,
            now=now,
        )
        result.counts.errors += 1
        result.counts.still_failing += int(same)
        state.pending = True
        state.failure = failure
        result.errors.extend(
            RecordError(
                task=shape.task,
                leg=shape.leg_titles[item.leg],
                key=state.record_key,
                field=answer.field,
                message=message,
                source_key=shape.codec.id_values(source_id),
                transient=answer.transient,
                still_failing=same,
            )
            for (item, answer), (_, _, message) in zip(items, messages, strict=True)
        )
    for source_id in result.reconciliation.leaving:
        if not states[source_id].pending:  # every row it had is gone: forget it
            del states[source_id]
            result.forget.append(source_id)
    return result


def combine(outcomes: Sequence[Outcome]) -> Outcome:
    """A record's outcome across legs: inserted when the last leg inserted it, updated when any
    leg changed something, else unchanged."""
    if outcomes and outcomes[-1] == Outcome.INSERTED:
        return Outcome.INSERTED
    if any(o in (Outcome.INSERTED, Outcome.UPDATED) for o in outcomes):
        return Outcome.UPDATED
    return Outcome.UNCHANGED


def _source_key(codec: KeyCodec, record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in codec.id_fields}


def _key_text(key: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {value!r}" for name, value in key.items())
