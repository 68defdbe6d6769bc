"""The partition plans of tasks whose full read is cut into key ranges (``task_partitions``).

A plan lives until every one of its partitions is done: a run stopped half-way leaves it, and
the next full read of the task takes it up again, each partition from the key its last
committed page ended on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from integrator.engine.history.clock import now_iso
from integrator.engine.history.tables import checkpoints, task_partitions

__all__ = ["Partition", "PartitionStore"]


@dataclass(frozen=True)
class Partition:
    """One key range of a task's full read: ``lower <= field < upper`` (``None``: open), and
    ``resume``, the key value its last committed page ended on (``None``: not started)."""

    project: str
    task: str
    number: int
    field: str
    lower: Any
    upper: Any
    resume: Any = None
    done: bool = False

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
    ) -> list[Partition]:
        """Replace the task's plan with the ranges ``bounds`` cut (``len(bounds) + 1`` of
        them, the first and last open); ``snapshot`` is the change checkpoint to store as the
        task's when all are done."""
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
                "updated_at": now,
            }
            for number in range(len(edges) - 1)
        ]
        with self.engine.begin() as conn:
            conn.execute(task_partitions.delete().where(*_task(project, task)))
            conn.execute(task_partitions.insert(), rows)
        return self.plan(project, task)

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
        """Drop the task's plan, all done, and store its snapshot (if it has one) as the
        task's checkpoint, in one transaction."""
        with self.engine.begin() as conn:
            snapshot = conn.execute(
                sa.select(task_partitions.c.snapshot).where(*_task(project, task)).limit(1)
            ).scalar()
            if snapshot is not None:
                where = sa.and_(checkpoints.c.project == project, checkpoints.c.task == task)
                values = {"checkpoint": snapshot, "run_id": run_id, "updated_at": now_iso()}
                if conn.execute(checkpoints.update().where(where).values(**values)).rowcount == 0:
                    conn.execute(checkpoints.insert().values(project=project, task=task, **values))
            conn.execute(task_partitions.delete().where(*_task(project, task)))


def _left(conn: sa.Connection, project: str, task: str) -> int:
    count = conn.execute(
        sa.select(sa.func.count()).where(*_task(project, task), task_partitions.c.done.is_(False))
    ).scalar()
    return int(count or 0)


def _task(project: str, task: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (task_partitions.c.project == project, task_partitions.c.task == task)


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
    )
