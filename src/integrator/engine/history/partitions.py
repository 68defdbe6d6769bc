"""The partition plans of tasks whose full read, or read of the changes since a checkpoint,
is cut into ranges (``task_partitions``), and the source ids the committed pages of a full
read's plan saw (``partition_seen``).

A plan lives until every one of its partitions is done: a run stopped half-way leaves it, and
the next full read of the task takes it up again, each partition from the value its last
committed page ended on. The seen marks live as long as the plan: once every partition is
done, the task's record states with no mark are the records gone from the source
(:meth:`PartitionStore.unseen_state_pages`), and the marks go with the plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from integrator.engine.history.clock import now_iso
from integrator.engine.history.tables import (
    checkpoints,
    partition_seen,
    record_state,
    task_partitions,
)

__all__ = ["Partition", "PartitionStore"]


@dataclass(frozen=True)
class Partition:
    """One range of a task's read: ``lower <= field < upper`` (``None``: open; ``field``
    the key or another field the source orders by), and ``resume``, the value its last
    committed page ended on (``None``: not started). ``since``: for a range of the changes
    since a checkpoint, that checkpoint (``None``: a range of a full read)."""

    project: str
    task: str
    number: int
    field: str
    lower: Any
    upper: Any
    resume: Any = None
    done: bool = False
    since: str | None = None

    @property
    def reads_changes(self) -> bool:
        """Whether the range is one of the changes since a checkpoint (not of a full read)."""
        return self.since is not None

    def as_dict(self) -> dict[str, Any]:
        """The partition as a JSON-able dict (what a job queue carries)."""
        return {
            "project": self.project,
            "task": self.task,
            "number": self.number,
            "field": self.field,
            "lower": self.lower,
            "upper": self.upper,
            "resume": self.resume,
            "done": self.done,
            "since": self.since,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Partition:
        """The partition :meth:`as_dict` gave."""
        return cls(**data)


class PartitionStore:
    """Read and write the partition plans of tasks."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def plan(self, project: str, task: str) -> list[Partition]:
        """The task's unfinished plan, in key order (``[]`` when there is none)."""
        query = (
            sa.select(task_partitions)
            .where(task_partitions.c.project == project, task_partitions.c.task == task)
            .order_by(task_partitions.c.number)
        )
        with self.engine.connect() as conn:
            return [_partition(row) for row in conn.execute(query).mappings()]

    def partition(self, project: str, task: str, number: int) -> Partition | None:
        """One partition of the task's plan as now committed, or ``None``."""
        return next((p for p in self.plan(project, task) if p.number == number), None)

    def save_plan(
        self,
        project: str,
        task: str,
        run_id: int,
        field: str,
        bounds: Sequence[Any],
        snapshot: str | None,
        *,
        since: str | None = None,
    ) -> list[Partition]:
        """Replace the task's plan with the ranges ``bounds`` cut (``len(bounds) + 1`` of
        them, the first and last open); ``snapshot`` is the change checkpoint to store as the
        task's when all are done; ``since``: the checkpoint a plan of change ranges reads
        after (``None``: a full read's plan). The seen marks of the task's earlier plan go
        too."""
        edges = [None, *bounds, None]
        now = now_iso()
        rows = [
            {
                "project": project,
                "task": task,
                "number": number,
                "run_id": run_id,
                "field": field,
                "lower": json.dumps(edges[number]),
                "upper": json.dumps(edges[number + 1]),
                "resume": None,
                "done": False,
                "snapshot": snapshot,
                "since": since,
                "updated_at": now,
            }
            for number in range(len(edges) - 1)
        ]
        with self.engine.begin() as conn:
            _drop(conn, project, task)
            conn.execute(task_partitions.insert(), rows)
        return self.plan(project, task)

    def drop_plan(self, project: str, task: str) -> None:
        """Drop the task's plan and its seen marks, unfinished (a full read replaces a plan of
        change ranges: it reads all they would have)."""
        with self.engine.begin() as conn:
            _drop(conn, project, task)

    def put_resume(
        self, conn: sa.Connection, run_id: int, project: str, task: str, number: int, last: str
    ) -> None:
        """Move a partition's resume point (``last``: the key as JSON), on the caller's
        transaction (the page's)."""
        conn.execute(
            task_partitions.update()
            .where(*_task(project, task), task_partitions.c.number == number)
            .values(resume=last, run_id=run_id, updated_at=now_iso())
        )

    def put_seen(
        self, conn: sa.Connection, project: str, task: str, source_ids: Sequence[str]
    ) -> None:
        """Mark ``source_ids`` seen by the task's plan, on the caller's transaction (the
        page's); ids already marked stay as they are."""
        unique = list(dict.fromkeys(source_ids))
        if not unique:
            return
        dialect_insert = postgres_insert if conn.dialect.name == "postgresql" else sqlite_insert
        insert = dialect_insert(partition_seen).on_conflict_do_nothing()
        conn.execute(
            insert, [{"project": project, "task": task, "source_id": id_} for id_ in unique]
        )

    def unseen_state_pages(self, project: str, task: str, size: int) -> Iterator[list[str]]:
        """The source ids of the task's record states that no committed page of its plan saw
        (the records gone from the source once every partition is done), ``size`` at a time in
        source-id order, each page its own keyset-paged query: the caller may remove each
        page's states before it asks for the next."""
        # OFFSET 0 keeps PostgreSQL from turning NOT EXISTS into an anti-join: on a history with
        # no statistics yet (every first load) it plans that join's inner side as a scan of the
        # task's marks per state, quadratic; as a subplan, each state is one primary-key lookup
        marked = (
            sa.select(partition_seen.c.source_id)
            .where(*_seen(project, task), partition_seen.c.source_id == record_state.c.source_id)
            .offset(0)
            .exists()
        )
        where = [record_state.c.project == project, record_state.c.task == task, ~marked]
        last: str | None = None
        while True:
            query = sa.select(record_state.c.source_id).where(*where)
            if last is not None:
                query = query.where(record_state.c.source_id > last)
            query = query.order_by(record_state.c.source_id).limit(size)
            with self.engine.connect() as conn:
                page = [row[0] for row in conn.execute(query)]
            if page:
                yield page
            if len(page) < size:
                return
            last = page[-1]

    def left(self, project: str, task: str) -> int:
        """How many partitions of the task's plan are not done."""
        with self.engine.connect() as conn:
            return _left(conn, project, task)

    def mark_done(self, project: str, task: str, number: int, run_id: int) -> int:
        """Record the partition done; returns how many of the plan's are not done yet. The
        plan's rows are locked first, so of two workers finishing the last two partitions at
        once exactly one is told 0 (and finishes the task)."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.select(task_partitions.c.number).where(*_task(project, task)).with_for_update()
            ).all()
            conn.execute(
                task_partitions.update()
                .where(*_task(project, task), task_partitions.c.number == number)
                .values(done=True, run_id=run_id, updated_at=now_iso())
            )
            return _left(conn, project, task)

    def finish(self, project: str, task: str, run_id: int) -> None:
        """Drop the task's plan, all done, and its seen marks, and store its snapshot (if it
        has one) as the task's checkpoint, in one transaction."""
        with self.engine.begin() as conn:
            snapshot = conn.execute(
                sa.select(task_partitions.c.snapshot).where(*_task(project, task)).limit(1)
            ).scalar()
            if snapshot is not None:
                where = sa.and_(checkpoints.c.project == project, checkpoints.c.task == task)
                values = {"checkpoint": snapshot, "run_id": run_id, "updated_at": now_iso()}
                if conn.execute(checkpoints.update().where(where).values(**values)).rowcount == 0:
                    conn.execute(checkpoints.insert().values(project=project, task=task, **values))
            _drop(conn, project, task)


def _drop(conn: sa.Connection, project: str, task: str) -> None:
    conn.execute(task_partitions.delete().where(*_task(project, task)))
    conn.execute(partition_seen.delete().where(*_seen(project, task)))


def _left(conn: sa.Connection, project: str, task: str) -> int:
    count = conn.execute(
        sa.select(sa.func.count()).where(*_task(project, task), task_partitions.c.done.is_(False))
    ).scalar()
    return int(count or 0)


def _task(project: str, task: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (task_partitions.c.project == project, task_partitions.c.task == task)


def _seen(project: str, task: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (partition_seen.c.project == project, partition_seen.c.task == task)


def _partition(row: sa.RowMapping) -> Partition:
    return Partition(
        project=row["project"],
        task=row["task"],
        number=row["number"],
        field=row["field"],
        lower=json.loads(row["lower"]) if row["lower"] is not None else None,
        upper=json.loads(row["upper"]) if row["upper"] is not None else None,
        resume=json.loads(row["resume"]) if row["resume"] is not None else None,
        done=bool(row["done"]),
        since=row["since"],
    )
