"""Partitioned reads: a big source's full read cut into ranges of a field the source orders
by (its key, or another such as a creation time), or its read of the changes since the task's
checkpoint cut into ranges of the order it reads them in (a SQL table's watermark, then key),
each run as its own unit (its pages, its resume point) so no process holds more than one
range's pages and a queue can spread the ranges over workers.

The plan is made before anything is read: the bounds that cut the read into ranges of about
``partition_records`` records, then the source's change checkpoint (so the task's incremental
checkpoint after the load misses nothing written during it: what changes during the load is
read again by the next run). A source that cannot cut the read, or that holds fewer records,
gets no plan: its read runs as one, as it always did.

Each committed page of a full read's plan marks the source ids it saw in the history; the
records gone from the source are those whose state no page of the plan marked, found once
every partition is done (:meth:`integrator.engine.task.TaskRunner.finish_partitions`),
whichever run read them. A plan of change ranges marks nothing and removes nothing: a read of
changes sees no deletions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import cast

from integrator.connectors.base import ChangeRangeReader, Connector, RangePage, RangeReader
from integrator.engine.history import HistoryStore
from integrator.engine.history.partitions import Partition
from integrator.engine.pages import SourcePage
from integrator.engine.read import reads_changes
from integrator.engine.taskplan import TaskPlan

__all__ = ["Partition", "plan_partitions", "range_pages"]


def plan_partitions(
    plan: TaskPlan,
    source: Connector,
    history: HistoryStore,
    *,
    run_id: int,
    checkpoint: str | None,
    full: bool,
    partition_records: int | None,
) -> list[Partition]:
    """The task's partitions for this run: the unfinished plan of an earlier run when there is
    one (but a ``full`` read drops one of change ranges, whose changes it reads anyway), else,
    when partitioning is on (``partition_records``), a new plan of the ``full`` read's key
    ranges, or of the changes since ``checkpoint``, when the source can cut that read into more
    than one range; else ``[]`` (read as one)."""
    store = history.partitions
    existing = store.plan(plan.project, plan.name)
    if existing and not (full and existing[0].reads_changes):
        return existing
    if existing:
        store.drop_plan(plan.project, plan.name)
    if partition_records is None:
        return []
    entity = plan.task.source_entity
    if full:
        if not source.capabilities.key_ranges:
            return []
        ranges = cast(RangeReader, source)
        found = ranges.key_bounds(entity, partition_records)
        if found is None or not found[1]:
            return []
        field, bounds = found
        since = None
    else:
        if not source.capabilities.change_ranges or checkpoint is None:
            return []
        changes = cast(ChangeRangeReader, source)
        cut = changes.change_bounds(entity, checkpoint, partition_records)
        if not cut:
            return []
        field, bounds, since = "changes", cut, checkpoint
    # after the bounds, so the runs after the load miss nothing written during it (and only
    # once the read is cut: on Dataverse it costs a read of the table)
    snapshot = (
        cast(RangeReader, source).change_checkpoint(entity, plan.source_fields)
        if reads_changes(source)
        else None
    )
    return store.save_plan(plan.project, plan.name, run_id, field, bounds, snapshot, since=since)


def range_pages(plan: TaskPlan, source: Connector, partition: Partition) -> Iterator[SourcePage]:
    """The partition's source pages from its resume point, each with the value it ended on as
    its checkpoint (the partition's resume point once the page is committed)."""
    entity, fields = plan.task.source_entity, plan.source_fields
    bounds = {"lower": partition.lower, "upper": partition.upper, "after": partition.resume}
    pages: Iterator[RangePage]
    if partition.since is not None:
        changes = cast(ChangeRangeReader, source)
        pages = changes.read_change_range(entity, fields, since=partition.since, **bounds)
    else:
        pages = cast(RangeReader, source).read_range(entity, fields, **bounds)
    full = not partition.reads_changes
    for page in pages:
        yield SourcePage(page.records, checkpoint=json.dumps(page.last), full_read=full)
