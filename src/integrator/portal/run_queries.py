"""The history as the portal's run pages read it: filtered and paged lists of runs, one run
without its failed records, its failures grouped by cause and a page of them, and the
dashboard's counts. Every figure is an SQL aggregate or a bounded page, so a history of 100,000
runs, or a run of 10,000 failed records, answers as fast as a small one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from integrator.engine.history import RecordError, RunStatus, RunSummary, TaskSummary
from integrator.engine.history.clock import iso

# the run log's row readers: one reading of a row, whichever module lists runs
from integrator.engine.history.runlog import _counts, _run, record_error_fields
from integrator.engine.history.tables import record_errors, runs, task_runs
from integrator.p2c.hints import hint_for

__all__ = [
    "Cause",
    "RunFilter",
    "bound",
    "count_runs",
    "daily_counts",
    "failed_records_page",
    "failure_causes",
    "list_runs",
    "run_overview",
]

#: record keys named per cause
SAMPLE_KEYS = 3


def bound(text: str | None, *, end: bool = False) -> str | None:
    """A date (``YYYY-MM-DD``) or an ISO-8601 time from a filter as a history timestamp to
    compare ``started_at`` with; ``end`` makes a date mean the end of that day (the next
    day's start). ``None`` or ``""`` give ``None``. Raises :class:`ValueError` for anything
    else."""
    if not text:
        return None
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        if end:
            day += timedelta(days=1)
        return iso(datetime(day.year, day.month, day.day, tzinfo=UTC))
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment)


@dataclass(frozen=True)
class RunFilter:
    """Which runs a list shows: of ``project``, with ``status``, started at or after
    ``since`` and before ``until`` (history timestamps, see :func:`bound`)."""

    project: str | None = None
    status: RunStatus | None = None
    since: str | None = None
    until: str | None = None

    def where(self) -> list[sa.ColumnElement[bool]]:
        """The filter as SQL conditions on ``runs``."""
        conditions: list[sa.ColumnElement[bool]] = []
        if self.project is not None:
            conditions.append(runs.c.project == self.project)
        if self.status is not None:
            conditions.append(runs.c.status == str(self.status))
        if self.since is not None:
            conditions.append(runs.c.started_at >= self.since)
        if self.until is not None:
            conditions.append(runs.c.started_at < self.until)
        return conditions


def count_runs(engine: sa.Engine, selection: RunFilter) -> int:
    """How many runs ``selection`` holds."""
    query = sa.select(sa.func.count()).select_from(runs).where(*selection.where())
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def list_runs(
    engine: sa.Engine, selection: RunFilter, *, limit: int = 50, offset: int = 0
) -> list[RunSummary]:
    """Runs of ``selection``, newest first, ``limit`` from ``offset``, each with its tasks'
    counts (failed records not loaded)."""
    query = (
        sa.select(runs)
        .where(*selection.where())
        .order_by(runs.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as conn:
        summaries = [_run(row) for row in conn.execute(query).mappings()]
        _add_tasks(conn, summaries)
    return summaries


def run_overview(engine: sa.Engine, run_id: int) -> RunSummary | None:
    """Run ``run_id`` with its tasks' counts but not its failed records, or ``None``."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().first()
        if row is None:
            return None
        summary = _run(row)
        _add_tasks(conn, [summary])
    return summary


def _add_tasks(conn: sa.Connection, summaries: Sequence[RunSummary]) -> None:
    if not summaries:
        return
    by_id = {s.id: s for s in summaries}
    query = (
        sa.select(task_runs)
        .where(task_runs.c.run_id.in_(list(by_id)))
        .order_by(task_runs.c.run_id, task_runs.c.position)
    )
    for row in conn.execute(query).mappings():
        by_id[row["run_id"]].tasks.append(
            TaskSummary(row["task"], RunStatus(row["status"]), _counts(row))
        )


@dataclass(frozen=True)
class Cause:
    """Failed records of a run that share task, leg, field and message: how many, a few of
    their keys, and the fix when there is a usual one."""

    task: str
    leg: str
    field: str | None
    message: str
    count: int
    sample_keys: tuple[str, ...]
    hint: str | None


def failure_causes(
    engine: sa.Engine, run_id: int, *, project_file: str | None = None, limit: int = 50
) -> tuple[list[Cause], int]:
    """The causes of run ``run_id``'s failures, largest first (at most ``limit``), and how
    many causes there are in all. The fix names ``project_file`` where a mapping row is to
    change."""
    group = (
        record_errors.c.task,
        record_errors.c.leg,
        record_errors.c.field,
        record_errors.c.message,
    )
    where = record_errors.c.run_id == run_id
    # every cause in one GROUP BY (a few rows, unless each record failed in a way of its own)
    query = (
        sa.select(
            *group, sa.func.count().label("n"), sa.func.min(record_errors.c.id).label("first")
        )
        .where(where)
        .group_by(*group)
        .order_by(sa.desc("n"), sa.asc("first"))
    )
    with engine.connect() as conn:
        every = list(conn.execute(query).mappings())
        rows = every[:limit]
        samples: dict[int, tuple[str, ...]] = {}
        for row in rows:
            field_is = (
                record_errors.c.field.is_(None)
                if row["field"] is None
                else record_errors.c.field == row["field"]
            )
            # in the order they failed, from the cause's first; asking no more than the cause
            # has lets the scan stop at its last one
            found = conn.execute(
                sa.select(record_errors.c.record_key)
                .where(
                    where,
                    record_errors.c.id >= row["first"],
                    record_errors.c.task == row["task"],
                    record_errors.c.leg == row["leg"],
                    field_is,
                    record_errors.c.message == row["message"],
                )
                .order_by(record_errors.c.id)
                .limit(min(SAMPLE_KEYS, int(row["n"])))
            )
            samples[row["first"]] = tuple(str(key) for (key,) in found)
    total = len(every)
    causes: list[Cause] = []
    for row in rows:
        keys = samples[row["first"]]
        example = RecordError(
            task=row["task"],
            leg=row["leg"],
            key=keys[0] if keys else "",
            message=row["message"],
            field=row["field"],
        )
        causes.append(
            Cause(
                task=row["task"],
                leg=row["leg"],
                field=row["field"],
                message=row["message"],
                count=int(row["n"]),
                sample_keys=keys,
                hint=hint_for(example, project_file),
            )
        )
    return causes, total


def failed_records_page(
    engine: sa.Engine, run_id: int, *, limit: int, offset: int = 0
) -> tuple[list[RecordError], int]:
    """``limit`` failed records of run ``run_id`` from ``offset``, in the order they failed,
    and how many failed in all."""
    where = record_errors.c.run_id == run_id
    query = (
        sa.select(
            record_errors.c.task,
            record_errors.c.leg,
            record_errors.c.record_key,
            record_errors.c.field,
            record_errors.c.message,
        )
        .where(where)
        .order_by(record_errors.c.id)
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as conn:
        total = int(
            conn.execute(
                sa.select(sa.func.count()).select_from(record_errors).where(where)
            ).scalar_one()
        )
        records = [
            RecordError(**record_error_fields(row)) for row in conn.execute(query).mappings()
        ]
    return records, total


def daily_counts(engine: sa.Engine, since: str | None) -> dict[str, dict[str, int]]:
    """Per UTC day (``YYYY-MM-DD``) since ``since``: how many runs started that day in each
    status."""
    day = sa.func.substr(runs.c.started_at, 1, 10)
    query = sa.select(day.label("day"), runs.c.status, sa.func.count()).group_by(day, runs.c.status)
    if since is not None:
        query = query.where(runs.c.started_at >= since)
    result: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            values: Any = row
            result.setdefault(str(values[0]), {})[str(values[1])] = int(values[2])
    return result
