"""The dashboard: runs by status and over time in a report time frame (``Last N days|weeks``),
each bar a link into the execution history. Every figure is an SQL count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from integrator.engine.history import RunStatus
from integrator.portal.context import PortalContext
from integrator.portal.responses import page
from integrator.portal.run_queries import RunFilter, bound, count_runs, daily_counts

__all__ = ["DEFAULT_FRAME", "Frame", "routes"]

#: the statuses the dashboard always shows, as Data Integrator's does
MAIN_STATUSES = (RunStatus.COMPLETED, RunStatus.WARNING, RunStatus.ERROR, RunStatus.RUNNING)
#: the others, shown when the time frame has some
OTHER_STATUSES = (RunStatus.INTERRUPTED, RunStatus.CANCELLED, RunStatus.SKIPPED)
#: a time frame longer than this many days is drawn one bar per week
MAX_DAY_BARS = 62
MAX_FRAME_DAYS = 3660


@dataclass(frozen=True)
class Frame:
    """The report time frame: the last ``amount`` ``unit`` (``days`` or ``weeks``), today
    included."""

    amount: int
    unit: str

    @property
    def days(self) -> int:
        """How many days the frame holds."""
        return min(MAX_FRAME_DAYS, self.amount * (7 if self.unit == "weeks" else 1))

    def first_day(self, today: date) -> date:
        """The frame's first day when it ends ``today``."""
        return today - timedelta(days=self.days - 1)

    @classmethod
    def of(cls, amount: str | None, unit: str | None) -> Frame:
        """The frame a form asked for; the default (4 weeks) for what cannot be read."""
        try:
            number = int(amount) if amount else DEFAULT_FRAME.amount
        except ValueError:
            number = DEFAULT_FRAME.amount
        if number < 1:
            number = DEFAULT_FRAME.amount
        return cls(number, unit if unit in ("days", "weeks") else DEFAULT_FRAME.unit)


DEFAULT_FRAME = Frame(4, "weeks")


@dataclass(frozen=True)
class StatusBar:
    """One status's count, as a bar (``percent`` of the largest) linking to its runs."""

    status: str
    count: int
    percent: float
    url: str


@dataclass(frozen=True)
class Segment:
    """The part of a day's (or week's) bar one status takes."""

    status: str
    count: int
    y: float
    height: float


@dataclass(frozen=True)
class PeriodBar:
    """A day (or week) of the chart: its runs by status, and the link to them."""

    label: str
    first: date
    last: date
    total: int
    segments: list[Segment]
    url: str


def _runs_url(status: str | None, first: date, last: date | None = None) -> str:
    values = {"status": status or "", "since": first.isoformat()}
    if last is not None:
        values["until"] = last.isoformat()
    return "/runs?" + urlencode({k: v for k, v in values.items() if v})


def _periods(first: date, today: date, weekly: bool) -> list[tuple[date, date]]:
    step = 7 if weekly else 1
    periods = []
    start = first
    while start <= today:
        end = min(today, start + timedelta(days=step - 1))
        periods.append((start, end))
        start = end + timedelta(days=1)
    return periods


#: the chart's drawing height, in SVG units
CHART_HEIGHT = 120.0


def period_bars(
    days: dict[str, dict[str, int]], first: date, today: date
) -> tuple[list[PeriodBar], int]:
    """The chart's bars from per-day counts (``daily_counts``), one per day, or per week for
    a long frame; and the largest bar's total."""
    weekly = (today - first).days + 1 > MAX_DAY_BARS
    order = [str(s) for s in (*MAIN_STATUSES, *OTHER_STATUSES)]
    totals: list[tuple[date, date, dict[str, int]]] = []
    for start, end in _periods(first, today, weekly):
        counts: dict[str, int] = {}
        day = start
        while day <= end:
            for status, n in days.get(day.isoformat(), {}).items():
                counts[status] = counts.get(status, 0) + n
            day += timedelta(days=1)
        totals.append((start, end, counts))
    peak = max((sum(c.values()) for _, _, c in totals), default=0)
    bars = []
    for start, end, counts in totals:
        total = sum(counts.values())
        segments = []
        y = CHART_HEIGHT
        for status in order + sorted(set(counts) - set(order)):
            n = counts.get(status, 0)
            if not n:
                continue
            height = CHART_HEIGHT * n / peak
            y -= height
            segments.append(Segment(status, n, y, height))
        label = start.isoformat() if start == end else f"{start.isoformat()} – {end.isoformat()}"
        bars.append(PeriodBar(label, start, end, total, segments, _runs_url(None, start, end)))
    return bars, peak


async def dashboard(request: Request) -> Response:
    portal: PortalContext = request.app.state.portal
    frame = Frame.of(request.query_params.get("last"), request.query_params.get("unit"))
    today = datetime.now(UTC).date()
    first = frame.first_day(today)
    since = bound(first.isoformat())

    def load() -> tuple[dict[str, dict[str, int]], int]:
        engine = portal.history.engine
        return daily_counts(engine, since), count_runs(engine, RunFilter())

    days, all_time = await run_in_threadpool(load)
    by_status: dict[str, int] = {}
    for counts in days.values():
        for status, n in counts.items():
            by_status[status] = by_status.get(status, 0) + n
    shown = [str(s) for s in MAIN_STATUSES] + [
        str(s) for s in OTHER_STATUSES if by_status.get(str(s))
    ]
    peak = max((by_status.get(s, 0) for s in shown), default=0) or 1
    status_bars = [
        StatusBar(s, by_status.get(s, 0), 100.0 * by_status.get(s, 0) / peak, _runs_url(s, first))
        for s in shown
    ]
    bars, bar_peak = period_bars(days, first, today)
    return page(
        request,
        "dashboard.html",
        {
            "frame": frame,
            "first": first,
            "today": today,
            "total": sum(by_status.values()),
            "all_time": all_time,
            "status_bars": status_bars,
            "bars": bars,
            "bar_peak": bar_peak,
            "chart_height": CHART_HEIGHT,
            "weekly": (today - first).days + 1 > MAX_DAY_BARS,
            "frame_url": _runs_url(None, first),
        },
    )


routes: list[BaseRoute] = [Route("/", dashboard, methods=["GET"])]
