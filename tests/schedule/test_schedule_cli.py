"""``integrator schedule`` through the real command: set, list, manual, bad values, and the
project file edited as a person would (one line changed, comments kept)."""

from __future__ import annotations

import difflib
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from integrator.config.workspace import load_workspace
from integrator.engine.history import HistoryStore
from integrator.engine.history.models import EndReason
from integrator.schedule.book import ScheduleBook
from tests.commands import integrator
from tests.schedule.conftest import ACCOUNTS, CONTACTS

ACCOUNTS_FILE = f"projects/{ACCOUNTS}.yaml"


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_schedule_writes_one_line_and_shows_the_next_runs(workspace_root: Path) -> None:
    path = workspace_root / ACCOUNTS_FILE
    original = path.read_text().replace("tasks:", "# my own note about the tasks\ntasks:", 1)
    path.write_text(original)
    done = integrator(
        "schedule", "Accounts", "--every", "15m", "--starting-at", "2026-12-01T08:00",
        "--time-zone", "Europe/Paris", "--workspace", str(workspace_root),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"{ACCOUNTS}: Recur every 15 minutes, starting at 2026-12-01 08:00 Europe/Paris"
    )
    coming = re.findall(r"^  (\S+ \S+) Europe/Paris \((\S+ \S+) UTC\)$", done.stdout, re.M)
    assert len(coming) == 3
    utc_times = [datetime.fromisoformat(f"{u}+00:00") for _, u in coming]
    assert [b - a for a, b in itertools.pairwise(utc_times)] == [timedelta(minutes=15)] * 2
    assert utc_times[0] > datetime.now(UTC) - timedelta(minutes=1)
    assert changed_lines(original, path.read_text()) == [
        "+schedule: {every: 15, unit: minutes, starting_at: '2026-12-01T08:00:00', "
        "time_zone: Europe/Paris}"
    ]
    assert load_workspace(workspace_root).projects[ACCOUNTS].schedule is not None

    manual = integrator("schedule", ACCOUNTS, "--manual", "--workspace", str(workspace_root))
    assert manual.returncode == 0, manual.stderr
    assert manual.stdout.splitlines()[0] == f"{ACCOUNTS}: Run manually"
    assert path.read_text() == original, "removing the schedule gives back the file as it was"


@pytest.mark.parametrize(
    ("every", "written"),
    [
        ("15min", "every: 15, unit: minutes"),
        ("15minutes", "every: 15, unit: minutes"),
        ("2h", "every: 2, unit: hours"),
        ("1d", "every: 1, unit: days"),
        ("1w", "every: 1, unit: weeks"),
        ("1mo", "every: 1, unit: months"),
        ("3months", "every: 3, unit: months"),
    ],
)
def test_every_accepts_short_and_long_units(workspace_root: Path, every: str, written: str) -> None:
    done = integrator("schedule", ACCOUNTS, "--every", every, "-w", str(workspace_root))
    assert done.returncode == 0, done.stderr
    assert f"schedule: {{{written}, starting_at: '" in (workspace_root / ACCOUNTS_FILE).read_text()


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--every", "15x"], "--every '15x'"),
        (["--every", "0m"], "--every '0m'"),
        (["--every", "1d", "--time-zone", "Mars/Olympus"], "--time-zone 'Mars/Olympus'"),
        (["--every", "1d", "--starting-at", "tomorrow"], "--starting-at 'tomorrow'"),
        (
            ["--every", "1d", "--starting-at", "2026-12-01T08:00", "--until", "2026-11-01"],
            "--until 2026-11-01 is not after the start",
        ),
        ([], "--every"),
    ],
)
def test_a_bad_value_exits_2_naming_the_option(
    workspace_root: Path, args: list[str], names: str
) -> None:
    before = (workspace_root / ACCOUNTS_FILE).read_text()
    done = integrator("schedule", ACCOUNTS, *args, "-w", str(workspace_root))
    assert done.returncode == 2
    assert names in done.stderr
    assert "Traceback" not in done.stderr
    assert (workspace_root / ACCOUNTS_FILE).read_text() == before


def test_an_unknown_project_is_named(workspace_root: Path) -> None:
    done = integrator("schedule", "Invoices", "--every", "1h", "-w", str(workspace_root))
    assert done.returncode == 2
    assert 'no project named "Invoices"' in done.stderr


def test_list_shows_schedule_latest_and_next_run(workspace_root: Path) -> None:
    set_done = integrator(
        "schedule", ACCOUNTS, "--every", "1h", "--starting-at", "2026-01-01T00:00",
        "-w", str(workspace_root),
    )  # fmt: skip
    assert set_done.returncode == 0, set_done.stderr
    listed = integrator("schedule", "--list", "-w", str(workspace_root))
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"Project\s+.*Schedule\s+.*Latest run\s+.*Next run", listed.stdout)
    assert re.search(
        r"Accounts \(Sales to Fin and Ops\).*Recur every hour.*Never.* \*", listed.stdout
    )
    assert "Not scheduled" in listed.stdout
    assert "`integrator serve` has not picked this schedule up yet" in listed.stdout

    # what `integrator serve` does: the book takes the schedule up, a slot is skipped
    now = datetime.now(UTC)
    ws = load_workspace(workspace_root)
    store = HistoryStore.open(ws.history_database_url)
    book = ScheduleBook(store.engine)
    book.sync(ws, now)
    next_run = book.rows()[0].next_run_at
    skipped = book.record_skipped(
        CONTACTS, "2026-12-01T08:00:00.000Z", EndReason.SKIPPED_BUSY, "busy"
    )
    store.close()

    document = json.loads(
        integrator("schedule", "--list", "--json", "-w", str(workspace_root)).stdout
    )
    by_project = {entry["project"]: entry for entry in document["schedules"]}
    accounts = by_project[ACCOUNTS]
    assert accounts["picked_up"] is True
    assert accounts["schedule"]["unit"] == "hours"
    assert next_run is not None and datetime.fromisoformat(accounts["next_run_at"]) == next_run
    assert by_project[CONTACTS]["latest_run"] == {
        "id": skipped,
        "status": "Skipped",
        "started_at": by_project[CONTACTS]["latest_run"]["started_at"],
        "trigger": "schedule",
    }
    assert by_project[CONTACTS]["next_run_at"] is None
    text = integrator("schedule", "--list", "-w", str(workspace_root)).stdout
    assert f"{skipped} Skipped" in text
    assert "has not picked" not in text
