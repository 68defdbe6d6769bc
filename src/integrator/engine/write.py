"""The map, write and remove stages of a task, each over a whole page.

Map (pure): the page's selected records through every leg → :class:`MappedPage`. Write: each
leg's records upserted, a leg only taking those the previous one accepted → :class:`WriteResults`.
Remove: the rows records no longer map to deleted, the destination's before CDS's.
"""

from __future__ import annotations

from collections.abc import Sequence

from integrator.connectors.base import Outcome, Record, RecordResult
from integrator.engine.claims import KeyClaim
from integrator.engine.pages import (
    Key,
    MappedLeg,
    MappedPage,
    RecordProblem,
    SourcePage,
    Stale,
    WriteResults,
)
from integrator.engine.taskplan import TaskPlan, fold_keys

__all__ = ["map_page", "remove_stale", "write_page"]


def map_page(plan: TaskPlan, page: SourcePage) -> MappedPage:
    """Select the page's records by the task's filter and map them through every leg (nothing
    is written): each leg's records with the position each came from, the key every record is
    meant to get in every leg, and the records the mapping refused."""
    codec = plan.codec
    selected = []
    ids = []
    left = []
    chosen = page.selection
    if chosen is None or len(chosen) != len(page.records):
        chosen = [plan.selected(record) for record in page.records]
    for record, keep in zip(page.records, chosen, strict=True):
        if keep:
            selected.append(record)
            ids.append(codec.source_id(record))
        else:
            left.append(codec.source_id(record))
    mapped = MappedPage(
        selected=selected,
        ids=ids,
        record_keys=[codec.key_text(record) for record in selected],
        left=left,
        deleted=list(page.deleted),
        legs=[],
        intended=[[None] * len(plan.legs) for _ in selected],
    )
    positions = list(range(len(selected)))
    current = selected
    for index, leg in enumerate(plan.legs):
        result = leg.mapping.apply(current)
        for problem in result.errors:
            mapped.problems.append(
                RecordProblem(positions[problem.index], index, problem.field, problem.message)
            )
        mapped.shortened.extend((positions[s.index], index, s) for s in result.shortened)
        positions = [positions[i] for i in result.indexes]
        if leg.constants:
            for record in result.records:
                record.update(leg.constants)
        records, positions, keys = _claim_keys(plan, index, mapped, result.records, positions)
        for key, position in zip(keys, positions, strict=True):
            mapped.intended[position][index] = key
        mapped.legs.append(MappedLeg(records, positions))
        current = records
    return mapped


def _claim_keys(
    plan: TaskPlan,
    index: int,
    mapped: MappedPage,
    records: list[Record],
    positions: list[int],
) -> tuple[list[Record], list[int], list[Key]]:
    """The leg's records less those whose key the target system takes for the key of another
    source record already mapped in this run (each such one is a failed record, the first
    keeps the key); with the positions and the keys of those kept."""
    leg = plan.legs[index]
    collation = leg.collation
    keys = [leg.key_of(record) for record in records]
    # a record without a whole key meets no other on it: the system says what is missing
    keyed = [i for i, key in enumerate(keys) if None not in key.values()]
    if not keyed:
        return records, positions, keys
    ids, record_keys = mapped.ids, mapped.record_keys
    wanted = [
        KeyClaim(fold, ids[positions[i]], record_keys[positions[i]])
        for i, fold in zip(keyed, fold_keys([keys[i] for i in keyed], collation), strict=True)
    ]
    refused: set[int] = set()
    for i, claim, holder in zip(keyed, wanted, plan.claims.claim(index, wanted), strict=True):
        if holder.source_id != claim.source_id:
            refused.add(i)
            field, message = _duplicate_message(plan, index, claim.record_key, holder)
            mapped.problems.append(RecordProblem(positions[i], index, field, message))
    if not refused:
        return records, positions, keys
    kept = [i for i in range(len(records)) if i not in refused]
    return [records[i] for i in kept], [positions[i] for i in kept], [keys[i] for i in kept]


def _duplicate_message(
    plan: TaskPlan, index: int, record_key: str, claim: KeyClaim
) -> tuple[str | None, str]:
    leg = plan.legs[index]
    fields = ", ".join(plan.codec.key_fields)
    role = "destination" if index == len(plan.legs) - 1 else "CDS"
    rule = (
        "it ignores case and trailing spaces in keys"
        if leg.collation == "dynamics"
        else "it compares keys exactly"
    )
    message = (
        f"{fields} {record_key!r} is the same key as {claim.record_key!r} in the {role}'s "
        f"{leg.leg.to_entity} ({rule}); only the record read first is written: fix one of "
        f"them in the source's {plan.task.source_entity}"
    )
    return (plan.codec.key_fields[0] if plan.codec.key_fields else None), message


def write_page(plan: TaskPlan, mapped: MappedPage) -> WriteResults:
    """Upsert each leg's mapped records, a leg only taking those the previous accepted; the
    key each record got and its outcome in each leg, and every record that failed."""
    results = WriteResults(
        written=[[] for _ in mapped.selected],
        outcomes=[[] for _ in mapped.selected],
        problems=list(mapped.problems),
    )
    alive: set[int] | None = None
    for index, (leg, legged) in enumerate(zip(plan.legs, mapped.legs, strict=True)):
        pairs = [
            (record, position)
            for record, position in zip(legged.records, legged.positions, strict=True)
            if alive is None or position in alive
        ]
        batch = [record for record, _ in pairs]
        answers = leg.connector.upsert(leg.leg.to_entity, batch, key=leg.leg.key) if batch else []
        alive = set()
        for (record, position), answer in zip(pairs, answers, strict=True):
            if answer.outcome == Outcome.ERROR:
                results.problems.append(_problem(position, index, answer))
                continue
            results.outcomes[position].append(answer.outcome)
            results.written[position].append(leg.key_of(record))
            alive.add(position)
    return results


def remove_stale(plan: TaskPlan, stale: Sequence[Stale]) -> list[tuple[Stale, RecordResult]]:
    """Delete stale rows, the destination's before CDS's; each row with the system's answer."""
    answers: list[tuple[Stale, RecordResult]] = []
    for leg_index in sorted({s.leg for s in stale}, reverse=True):
        leg = plan.legs[leg_index]
        items = [s for s in stale if s.leg == leg_index]
        results = leg.connector.delete(leg.leg.to_entity, [s.key for s in items])
        answers.extend(zip(items, results, strict=True))
    return answers


def _problem(position: int, leg: int, answer: RecordResult) -> RecordProblem:
    return RecordProblem(
        position,
        leg,
        answer.field,
        answer.message or "refused without a message",
        transient=answer.transient,
    )
