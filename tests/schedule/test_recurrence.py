"""The slots of a schedule: on the grid, increasing, none skipped or doubled, and as the wall
clock says across daylight-saving changes and month ends."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from integrator.config.models import Schedule
from integrator.schedule import describe, first_slot_after, slots_in

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
PARIS = "Europe/Paris"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def walk(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    slots: list[datetime] = []
    moment: datetime | None = after
    while len(slots) < count:
        moment = first_slot_after(schedule, moment, anchor=ANCHOR)  # type: ignore[arg-type]
        if moment is None:
            break
        slots.append(moment)
    return slots


def paris(slots: list[datetime]) -> list[str]:
    return [
        s.astimezone(Schedule(every=1, unit="days", time_zone=PARIS).zone).isoformat()
        for s in slots
    ]


def test_daily_0230_in_paris_moves_forward_by_the_march_gap() -> None:
    daily = Schedule(
        every=1, unit="days", starting_at=datetime(2026, 3, 27, 2, 30), time_zone=PARIS
    )
    assert paris(walk(daily, utc(2026, 3, 26), 4)) == [
        "2026-03-27T02:30:00+01:00",
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:30:00+02:00",  # 02:30 does not exist that night
        "2026-03-30T02:30:00+02:00",
    ]


def test_daily_0230_in_paris_runs_once_in_the_october_fold() -> None:
    daily = Schedule(
        every=1, unit="days", starting_at=datetime(2026, 10, 24, 2, 30), time_zone=PARIS
    )
    assert paris(walk(daily, utc(2026, 10, 23), 3)) == [
        "2026-10-24T02:30:00+02:00",
        "2026-10-25T02:30:00+02:00",  # the first of the two 02:30s
        "2026-10-26T02:30:00+01:00",
    ]


def test_hourly_across_both_dst_changes_is_one_hour_apart_in_utc() -> None:
    for start in (datetime(2026, 3, 28, 22, 0), datetime(2026, 10, 24, 22, 0)):
        hourly = Schedule(every=1, unit="hours", starting_at=start, time_zone=PARIS)
        slots = walk(hourly, utc(2026, 1, 1), 10)
        assert {b - a for a, b in itertools.pairwise(slots)} == {timedelta(hours=1)}
    fall = walk(
        Schedule(every=1, unit="hours", starting_at=datetime(2026, 10, 25, 1, 30), time_zone=PARIS),
        ANCHOR,
        3,
    )
    assert paris(fall) == [
        "2026-10-25T01:30:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:30:00+01:00",
    ]


def test_monthly_from_january_31_clamps_then_comes_back_to_the_31st() -> None:
    monthly = Schedule(every=1, unit="months", starting_at=datetime(2028, 1, 31, 8, 0))
    assert [s.date().isoformat() for s in walk(monthly, utc(2028, 1, 1), 4)] == [
        "2028-01-31",
        "2028-02-29",
        "2028-03-31",
        "2028-04-30",
    ]


def test_no_slot_after_ending_at() -> None:
    until = Schedule(
        every=1,
        unit="days",
        starting_at=datetime(2026, 12, 1, 8, 0),
        ending_at=datetime(2026, 12, 3, 8, 0),
        time_zone=PARIS,
    )
    assert len(walk(until, utc(2026, 11, 1), 10)) == 3
    assert first_slot_after(until, utc(2026, 12, 3, 7, 0), anchor=ANCHOR) is None
    assert slots_in(until, utc(2026, 1, 1), utc(2027, 1, 1), anchor=ANCHOR)[0] == 3


def test_without_starting_at_the_anchor_is_the_start() -> None:
    anchor = utc(2026, 12, 1, 9, 7)
    every_5 = Schedule(every=5, unit="minutes")
    assert first_slot_after(every_5, utc(2026, 12, 1, 9, 10), anchor=anchor) == utc(
        2026, 12, 1, 9, 12
    )
    assert first_slot_after(every_5, utc(2020, 1, 1), anchor=anchor) == anchor


def test_slots_in_counts_millions_of_minutes_at_once() -> None:
    minutely = Schedule(every=1, unit="minutes", starting_at=datetime(2000, 1, 1))
    count, first, last = slots_in(minutely, utc(2000, 1, 1), utc(2026, 1, 1), anchor=ANCHOR)
    assert count == (utc(2026, 1, 1) - utc(2000, 1, 1)) // timedelta(minutes=1)
    assert (first, last) == (utc(2000, 1, 1, 0, 1), utc(2026, 1, 1))
    assert slots_in(minutely, utc(2026, 1, 1), utc(2026, 1, 1), anchor=ANCHOR) == (0, None, None)


def test_describe_says_it_in_words() -> None:
    assert describe(None) == "Run manually"
    assert (
        describe(
            Schedule(
                every=15,
                unit="minutes",
                starting_at=datetime(2026, 12, 1, 8, 0),
                ending_at=datetime(2027, 1, 1),
                time_zone=PARIS,
            )
        )
        == "Recur every 15 minutes, starting at 2026-12-01 08:00 Europe/Paris, "
        "until 2027-01-01 00:00 Europe/Paris"
    )
    assert describe(Schedule(every=1, unit="days")).startswith("Recur every day")


ZONES = st.sampled_from(["UTC", PARIS, "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"])
UNITS = st.sampled_from(["minutes", "hours", "days", "weeks", "months"])
STARTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1))


def nth(schedule: Schedule, k: int) -> datetime:
    """Slot ``k`` as the definition says, computed independently of the library's stepping."""
    assert schedule.starting_at is not None
    start = schedule.starting_at.replace(second=0, microsecond=0)
    step: Any
    if schedule.unit in ("minutes", "hours"):
        begin = start.replace(tzinfo=schedule.zone).astimezone(UTC)
        return begin + timedelta(**{schedule.unit: schedule.every * k})
    if schedule.unit == "months":
        step = relativedelta(months=schedule.every * k)
    else:
        step = relativedelta(**{schedule.unit: schedule.every * k})
    return (start + step).replace(tzinfo=schedule.zone).astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(
    every=st.integers(1, 40),
    unit=UNITS,
    zone=ZONES,
    start=STARTS,
    offset=st.integers(-(10**6), 10**8),
)
def test_slots_are_the_grid_in_order_none_skipped_or_doubled(
    every: int, unit: str, zone: str, start: datetime, offset: int
) -> None:
    schedule = Schedule(
        every=every, unit=unit, starting_at=start.replace(second=0, microsecond=0), time_zone=zone
    )  # type: ignore[arg-type]
    moment = nth(schedule, 0) + timedelta(minutes=offset)
    slots = walk(schedule, moment, 6)
    assert len(slots) == 6
    assert all(a < b for a, b in itertools.pairwise(slots))
    assert slots[0] > moment
    # the slots are consecutive grid points: the first is grid point k, the next k+1, ...
    k = (
        0
        if moment < nth(schedule, 0)
        else slots_in(schedule, nth(schedule, 0), moment, anchor=ANCHOR)[0] + 1
    )
    assert slots == [nth(schedule, k + i) for i in range(6)]
    # and no grid point lies between the moment and the first slot
    if k > 0:
        assert nth(schedule, k - 1) <= moment
    count, first, last = slots_in(schedule, moment, slots[-1], anchor=ANCHOR)
    assert (count, first, last) == (6, slots[0], slots[-1])
