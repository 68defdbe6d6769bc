"""A schedule as people set it (``integrator schedule``, the portal's Scheduling tab) and when
its next run comes: the value written into a project file's ``schedule:``, and the next slot
as the schedule book has it or, before ``integrator serve`` picked the schedule up, as computed
from now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from integrator.config.models import Schedule
from integrator.schedule.book import ScheduleRow, schedule_spec
from integrator.schedule.recurrence import first_slot_after

__all__ = ["NextRun", "next_minute", "next_run", "schedule_value"]

_TICK = timedelta(microseconds=1)


def next_minute(zone: str) -> datetime:
    """The next whole minute as a wall-clock time in ``zone`` (naive), for a schedule set now."""
    now = datetime.now(UTC)
    start = now.replace(second=0, microsecond=0)
    if start < now:
        start += timedelta(minutes=1)
    return start.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def schedule_value(
    every: int,
    unit: str,
    starting_at: datetime | None,
    ending_at: datetime | None,
    time_zone: str | None,
) -> dict[str, Any]:
    """The ``schedule:`` value of a project file: ``{every, unit, starting_at[, ending_at]
    [, time_zone]}``, the start defaulting to the next minute in ``time_zone`` (UTC when
    ``None``, which is then not written). Not validated: check it with :class:`Schedule`."""
    start = starting_at or next_minute(time_zone or "UTC")
    value: dict[str, Any] = {"every": every, "unit": unit, "starting_at": start.isoformat()}
    if ending_at is not None:
        value["ending_at"] = ending_at.isoformat()
    if time_zone is not None:
        value["time_zone"] = time_zone
    return value


@dataclass(frozen=True)
class NextRun:
    """When a scheduled project runs next: ``at`` (``None``: the schedule has ended), the slot
    ``waiting`` for its run to start, and whether ``integrator serve`` has ``picked_up`` the
    schedule as the file has it (else ``at`` is computed from now)."""

    at: datetime | None
    waiting: datetime | None
    picked_up: bool


def next_run(schedule: Schedule, row: ScheduleRow | None, now: datetime) -> NextRun:
    """The next run of ``schedule``: the book's ``row`` when it was computed from this very
    schedule, else the first slot from ``now`` (aware UTC)."""
    if row is not None and row.spec == schedule_spec(schedule):
        return NextRun(row.next_run_at, row.waiting_slot, picked_up=True)
    coming = first_slot_after(schedule, now - _TICK, anchor=now.replace(second=0, microsecond=0))
    return NextRun(coming, None, picked_up=False)
