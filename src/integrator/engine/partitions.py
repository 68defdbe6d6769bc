"""Partitioned full reads: a big source's full read cut into key ranges, each run as its own
unit (its pages, its resume point, its removals) so no process holds more than one range's
pages and a queue can spread the ranges over workers.

The plan is made before anything is read: the source's change checkpoint first (so the task's
incremental checkpoint after the load misses nothing written during it), then every
``partition_records``-th key. A source whose key cannot be cut, or that holds fewer records,
gets no plan: its full read runs as one, as it always did.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

from integrator.connectors.base import Connector, KeyCollation, RangeReader
from integrator.engine.history import HistoryStore
from integrator.engine.history.partitions import Partition
from integrator.engine.pages import SourcePage
from integrator.engine.read import reads_changes
from integrator.engine.taskplan import TaskPlan

__all__ = ["Partition", "in_unread_part", "plan_partitions", "range_pages"]


def plan_partitions(
    plan: TaskPlan,
    source: Connector,
    history: HistoryStore,
    *,
    run_id: int,
    full: bool,
    partition_records: int | None,
) -> list[Partition]:
    """The task's partitions for this run: the unfinished plan of an earlier run when there is
    one, else a new plan when the read is ``full``, partitioning is on (``partition_records``)
    and the source can cut the entity into more than one range; else ``[]`` (read as one)."""
    store = history.partitions
    existing = store.plan(plan.project, plan.name)
    if existing:
        return existing
    if not full or partition_records is None or not source.capabilities.key_ranges:
        return []
    ranges = cast(RangeReader, source)
    entity = plan.task.source_entity
    snapshot = ranges.change_checkpoint(entity) if reads_changes(source) else None
    found = ranges.key_bounds(entity, partition_records)
    if found is None or not found[1] or tuple(plan.codec.id_fields) != (found[0],):
        return []
    field, bounds = found
    return store.save_plan(plan.project, plan.name, run_id, field, bounds, snapshot)


def range_pages(plan: TaskPlan, source: Connector, partition: Partition) -> Iterator[SourcePage]:
    """The partition's source pages from its resume point, each with the key it ended on as
    its checkpoint (the partition's resume point once the page is committed)."""
    ranges = cast(RangeReader, source)
    for page in ranges.read_range(
        plan.task.source_entity,
        plan.source_fields,
        lower=partition.lower,
        upper=partition.upper,
        after=partition.resume,
    ):
        yield SourcePage(page.records, checkpoint=json.dumps(page.last), full_read=True)


def in_unread_part(partition: Partition, value: Any, collation: KeyCollation) -> bool:
    """Whether key ``value`` lies in the part of ``partition`` this attempt reads: after its
    resume point (from its lower bound when it has none) and below its upper bound, compared
    as the source orders keys (``dynamics``: case and trailing spaces ignored)."""
    if value is None:
        return False
    start = partition.lower if partition.resume is None else partition.resume
    key, low, high = (_order(v, collation) for v in (value, start, partition.upper))
    try:
        if low is not None and (key < low if partition.resume is None else key <= low):
            return False
        return high is None or key < high
    except TypeError:  # a key of another type than the bounds': not this range's to judge
        return False


def _order(value: Any, collation: KeyCollation) -> Any:
    if collation == "dynamics" and isinstance(value, str):
        return value.rstrip(" ").casefold()
    return value
