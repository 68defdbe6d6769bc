"""The slots of a schedule: Data Integrator's *Recur every N minutes | hours | days | weeks |
months* from a start, in a time zone.

Minutes and hours step in absolute time (``start + k·Δ``): every hour is one hour apart in UTC,
across daylight-saving changes too. Days, weeks and months step the start's wall-clock time in
the schedule's zone (``python-dateutil``'s ``relativedelta`` from the start, so Jan 31 + 1 month
is Feb 28/29 and + 2 months Mar 31), then convert to UTC with ``zoneinfo``: a wall time in a DST
gap moves forward by the gap, an ambiguous one is its first occurrence. Slot ``k`` is computed
directly from ``k``, never by walking the slots before it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dateutil.relativedelta import relativedelta

from integrator.config.models import Schedule

__all__ = ["describe", "first_slot_after", "slots_in", "start_of"]

_FIXED = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1)}
_SINGULAR = {
    "minutes": "minute",
    "hours": "hour",
    "days": "day",
    "weeks": "week",
    "months": "month",
}


def _aware(moment: datetime, schedule: Schedule) -> datetime:
    # fold=0: in a gap this is the pre-transition offset, i.e. the wall time moved forward by
    # the gap once converted; in a fold, the first occurrence
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=schedule.zone)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def start_of(schedule: Schedule, anchor: datetime) -> datetime:
    """The first slot of ``schedule`` (aware UTC): its ``starting_at`` or else ``anchor``."""
    start = schedule.starting_at if schedule.starting_at is not None else anchor
    return _utc(_aware(start, schedule))


def _end_of(schedule: Schedule) -> datetime | None:
    return None if schedule.ending_at is None else _utc(_aware(schedule.ending_at, schedule))


class _Grid:
    """Slot ``k`` (k ≥ 0) of a schedule, and the index of the first slot after a moment."""

    def __init__(self, schedule: Schedule, anchor: datetime) -> None:
        self.schedule = schedule
        self.start = start_of(schedule, anchor)
        # the start's wall-clock time in the zone, naive: calendar steps keep it
        self.wall = self.start.astimezone(schedule.zone).replace(tzinfo=None)
        self.end = _end_of(schedule)

    def slot(self, k: int) -> datetime:
        every, unit = self.schedule.every, self.schedule.unit
        if unit in _FIXED:
            return self.start + _FIXED[unit] * (every * k)
        if unit == "months":
            step = relativedelta(months=every * k)
        else:
            step = relativedelta(days=every * k * (7 if unit == "weeks" else 1))
        return _utc((self.wall + step).replace(tzinfo=self.schedule.zone))

    def index_after(self, moment: datetime) -> int:
        """The smallest ``k`` whose slot is strictly after ``moment`` (ignoring the end)."""
        moment = _utc(moment)
        if moment < self.start:
            return 0
        every, unit = self.schedule.every, self.schedule.unit
        if unit in _FIXED:
            return (moment - self.start) // (_FIXED[unit] * every) + 1
        if unit == "months":
            local = moment.astimezone(self.schedule.zone)
            months = (local.year - self.wall.year) * 12 + (local.month - self.wall.month)
            k = max(0, months // every - 1)
        else:
            days = every * (7 if unit == "weeks" else 1)
            # a UTC offset changes a slot by hours at most: an estimate one step low, corrected
            k = max(0, (moment - self.start) // timedelta(days=days) - 1)
        while self.slot(k) <= moment:
            k += 1
        while k > 0 and self.slot(k - 1) > moment:
            k -= 1
        return k

    def within_end(self, slot: datetime) -> bool:
        return self.end is None or slot <= self.end


def first_slot_after(schedule: Schedule, moment: datetime, *, anchor: datetime) -> datetime | None:
    """The first slot of ``schedule`` strictly after the aware ``moment``, as aware UTC;
    ``None`` when it would be past ``ending_at``. ``anchor`` is the start of a schedule whose
    file gives no ``starting_at`` (when it was first seen)."""
    grid = _Grid(schedule, anchor)
    slot = grid.slot(grid.index_after(moment))
    return slot if grid.within_end(slot) else None


def slots_in(
    schedule: Schedule, after: datetime, until: datetime, *, anchor: datetime
) -> tuple[int, datetime | None, datetime | None]:
    """How many slots of ``schedule`` lie in ``(after, until]``, the first and the last of them
    (``None`` when there is none); the work does not grow with the count."""
    grid = _Grid(schedule, anchor)
    if grid.end is not None and until > grid.end:
        until = grid.end
    first, past = grid.index_after(after), grid.index_after(until)
    if past <= first:
        return 0, None, None
    return past - first, grid.slot(first), grid.slot(past - 1)


def _wall_text(moment: datetime, schedule: Schedule) -> str:
    local = _aware(moment, schedule).astimezone(schedule.zone)
    return f"{local:%Y-%m-%d %H:%M} {schedule.time_zone}"


def describe(schedule: Schedule | None) -> str:
    """The schedule in words, as Data Integrator says it: ``Recur every 15 minutes, starting at
    2026-12-01 08:00 Europe/Paris, until 2027-01-01 00:00 Europe/Paris``; ``Run manually`` for
    no schedule."""
    if schedule is None:
        return "Run manually"
    unit = _SINGULAR[schedule.unit] if schedule.every == 1 else schedule.unit
    count = "" if schedule.every == 1 else f"{schedule.every} "
    text = f"Recur every {count}{unit}"
    if schedule.starting_at is not None:
        text += f", starting at {_wall_text(schedule.starting_at, schedule)}"
    else:
        text += f", starting when first served ({schedule.time_zone})"
    if schedule.ending_at is not None:
        text += f", until {_wall_text(schedule.ending_at, schedule)}"
    return text
