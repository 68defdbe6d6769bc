"""The dashboard: runs by status and over time in a report time frame, its figures the
history's, each bar a way into the runs it counts."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from integrator.engine.history import RunStatus
from integrator.engine.history.clock import iso
from integrator.engine.history.tables import runs
from tests.portal.client import PortalClient
from tests.portal.runs_helpers import CONTACTS, recorded_run


def _bars(page: str) -> dict[str, tuple[int, str]]:
    """Each status bar's count and link."""
    found = re.findall(r'<a href="([^"]+)" aria-label="(\w+): (\d+) runs?">', page)
    return {status: (int(count), html.unescape(url)) for url, status, count in found}


def _history(portal: PortalClient) -> None:
    history = portal.context.history
    for _ in range(3):
        recorded_run(history, inserted=4)
    recorded_run(history, CONTACTS, inserted=2, failed=1)
    recorded_run(history, failed=2)
    recorded_run(history, finish=False)
    recorded_run(history, status=RunStatus.CANCELLED)
    old = recorded_run(history, inserted=1)  # ran 40 days ago
    when = iso(datetime.now(UTC) - timedelta(days=40))
    with history.engine.begin() as conn:
        conn.execute(runs.update().where(runs.c.id == old).values(started_at=when))


def test_the_counts_by_status_match_the_history_and_drill_into_it(portal: PortalClient) -> None:
    _history(portal)
    page = portal.get("/").text
    assert 'value="4"' in page and '<option value="weeks" selected>' in page  # Last 4 weeks
    assert re.search(r'<span class="figure">7</span>\s*<span class="caption">Total runs', page)
    assert "8 runs in the whole history" in page
    bars = _bars(page)
    first = (datetime.now(UTC).date() - timedelta(days=27)).isoformat()
    assert {s: n for s, (n, _) in bars.items()} == {
        "Completed": 3,
        "Warning": 1,
        "Error": 1,
        "Running": 1,
        "Cancelled": 1,
    }
    assert bars["Warning"][1] == f"/runs?status=Warning&since={first}"
    for status, (count, url) in bars.items():
        listed = portal.get(url).text
        assert f"{count} run{'' if count == 1 else 's'}, newest first" in listed, status


def test_runs_over_time_per_day_and_a_longer_time_frame(portal: PortalClient) -> None:
    _history(portal)
    today = datetime.now(UTC).date().isoformat()
    page = html.unescape(portal.get("/").text)
    assert "Runs over time (per day)" in page
    assert f'<a href="/runs?since={today}&until={today}" aria-label="{today}: 7 runs">' in page
    assert "<title>" + today + ": 3 Completed, 1 Warning, 1 Error, 1 Running, 1 Cancelled" in page

    longer = html.unescape(portal.get("/", params={"last": "12", "unit": "weeks"}).text)
    assert re.search(r'<span class="figure">8</span>', longer)
    assert "Runs over time (per week)" in longer
    days = html.unescape(portal.get("/", params={"last": "3", "unit": "days"}).text)
    assert '<option value="days" selected>' in days
    assert re.search(r'<span class="figure">7</span>', days)


def test_an_empty_history_says_there_is_nothing_yet(portal: PortalClient) -> None:
    page = portal.get("/", params={"last": "nonsense", "unit": "years"}).text
    assert 'value="4"' in page and '<option value="weeks" selected>' in page
    assert re.search(r'<span class="figure">0</span>', page)
    assert "No run in this time frame." in page
