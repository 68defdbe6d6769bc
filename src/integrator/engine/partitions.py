"""Partitioned full reads: a big source's full read cut into ranges of a field the source
orders by (its key, or another such as a creation time), each run as its own unit (its pages,
its resume point) so no process holds more than one range's pages and a queue can spread the
ranges over workers.

The plan is made before anything is read: the bounds that cut the field into ranges of about
``partition_records`` records, then the source's change checkpoint (so the task's incremental
checkpoint after the load misses nothing written during it). A source that cannot cut the
entity's read, or that holds fewer records, gets no plan: its full read runs as one, as it
always did.

Each committed page marks the source ids it saw in the history; the records gone from the
source are those whose state no page of the plan marked, found once every partition is done
(:meth:`integrator.engine.task.TaskRunner.finish_partitions`), whichever run read them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import cast

from integrator.connectors.base import Connector, RangeReader
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
    found = ranges.key_bounds(entity, partition_records)
    if found is None or not found[1]:
        return []
    field, bounds = found
    # before any range is read, so the incremental runs after the load miss nothing written
    # during it (and only once the read is cut: on Dataverse it costs a read of the table)
    snapshot = (
        ranges.change_checkpoint(entity, plan.source_fields) if reads_changes(source) else None
    )
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
