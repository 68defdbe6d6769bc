"""``integrator schedule``: set a project's schedule (written into its file), remove it, or list
every project's schedule with its latest and next run."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from integrator.cli.app import app
from integrator.cli.errors import with_exit_codes
from integrator.cli.options import WorkspaceOption
from integrator.cli.plain import PlainTable
from integrator.cli.render import output_console, status_text
from integrator.config.edit import set_project_key
from integrator.config.models import Schedule
from integrator.config.workspace import Workspace, load_workspace
from integrator.engine.connections import history_url
from integrator.engine.history import HistoryStore, RunStatus
from integrator.engine.history.clock import iso
from integrator.errors import UsageError
from integrator.schedule import describe, first_slot_after
from integrator.schedule.book import ScheduleBook, ScheduleRow
from integrator.schedule.settings import next_run, schedule_value

__all__ = ["schedule_command"]

_UNITS = {
    "minutes": ("m", "min", "mins", "minute", "minutes"),
    "hours": ("h", "hr", "hrs", "hour", "hours"),
    "days": ("d", "day", "days"),
    "weeks": ("w", "wk", "wks", "week", "weeks"),
    "months": ("mo", "mon", "month", "months"),
}
_UNIT_OF = {spelling: unit for unit, spellings in _UNITS.items() for spelling in spellings}
_EVERY = re.compile(r"\s*(\d+)\s*([a-z]+)\s*", re.IGNORECASE)
#: how many coming runs a new schedule shows
_PREVIEW = 3
_TICK = timedelta(microseconds=1)


def parse_every(text: str) -> tuple[int, str]:
    """``15m``, ``15min``, ``2h``, ``1d``, ``1w``, ``1mo``, ``3 months`` → ``(15, "minutes")``...;
    raises :class:`UsageError` naming ``--every`` otherwise."""
    match = _EVERY.fullmatch(text)
    unit = _UNIT_OF.get(match.group(2).casefold()) if match else None
    if match is None or unit is None or int(match.group(1)) < 1:
        raise UsageError(
            f"--every {text!r} is not a recurrence: write a number of at least 1 and a unit, "
            "such as 15m, 2h, 1d, 1w or 1mo (minutes, hours, days, weeks, months)"
        )
    return int(match.group(1)), unit


def _moment(option: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a date and time: write it as 2026-12-01T08:00 (a wall-clock "
            "time in --time-zone), or with an offset, 2026-12-01T08:00+01:00"
        ) from None


def _zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--time-zone {text!r} is not a time zone: use an IANA name such as UTC, "
            "Europe/Paris or America/New_York"
        ) from None
    return text


def _new_schedule(
    every: str, starting_at: str | None, until: str | None, time_zone: str | None
) -> dict[str, Any]:
    count, unit = parse_every(every)
    zone = _zone(time_zone or "UTC")
    start = _moment("--starting-at", starting_at)
    end = _moment("--until", until)
    value = schedule_value(count, unit, start, end, zone if time_zone is not None else None)
    try:
        Schedule.model_validate(value)
    except ValidationError as error:
        if end is not None and "ending_at" in str(error):
            raise UsageError(
                f"--until {until} is not after the start ({value['starting_at']})"
            ) from None
        raise
    return value


def _when(moment: datetime, schedule: Schedule) -> str:
    local = moment.astimezone(schedule.zone)
    text = f"{local:%Y-%m-%d %H:%M} {schedule.time_zone}"
    if schedule.time_zone != "UTC":
        text += f" ({moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
    return text


def _coming(schedule: Schedule, now: datetime, anchor: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    moment: datetime | None = now - _TICK
    while len(found) < count and moment is not None:
        moment = first_slot_after(schedule, moment, anchor=anchor)
        if moment is not None:
            found.append(moment)
    return found


def _set(ws: Workspace, project: str, value: dict[str, Any] | None, console: Console) -> None:
    name = ws.project_name(project)
    path = set_project_key(ws, name, "schedule", value)
    console.print(Text(f"{name}: {describe(None if value is None else Schedule(**value))}"))
    console.print(Text(f"Written to {path}"))
    if value is None:
        return
    schedule = Schedule.model_validate(value)
    now = datetime.now(UTC)
    coming = _coming(schedule, now, now, _PREVIEW)
    if not coming:
        console.print("No run comes: the schedule ends before the next slot.")
        return
    console.print("Next runs (once `integrator serve` runs):")
    for moment in coming:
        console.print(Text(f"  {_when(moment, schedule)}"))


def _listing(ws: Workspace) -> list[dict[str, Any]]:
    store = HistoryStore.open(history_url(ws))
    try:
        rows = {row.project: row for row in ScheduleBook(store.engine).rows()}
        now = datetime.now(UTC)
        listing = []
        for name in sorted(ws.project_files):
            project = ws.projects.get(name)
            schedule = project.schedule if project is not None else None
            latest = store.log.runs(name, limit=1)
            entry: dict[str, Any] = {
                "project": name,
                "schedule": None if schedule is None else schedule.model_dump(mode="json"),
                "description": describe(schedule) if project is not None else "(file has problems)",
                "latest_run": None,
                "next_run_at": None,
                "waiting_slot": None,
                "picked_up": False,
            }
            if latest:
                run = latest[0]
                entry["latest_run"] = {
                    "id": run.id,
                    "status": str(run.status),
                    "started_at": run.started_at,
                    "trigger": run.trigger,
                }
            if schedule is not None:
                _add_next(entry, schedule, rows.get(name), now)
            listing.append(entry)
        return listing
    finally:
        store.close()


def _add_next(
    entry: dict[str, Any], schedule: Schedule, row: ScheduleRow | None, now: datetime
) -> None:
    coming = next_run(schedule, row, now)
    entry["picked_up"] = coming.picked_up
    entry["next_run_at"] = iso(coming.at) if coming.at else None
    entry["waiting_slot"] = iso(coming.waiting) if coming.waiting else None


def _print_listing(console: Console, listing: list[dict[str, Any]]) -> None:
    table = PlainTable()
    for column in ("Project", "Schedule", "Latest run", "Next run"):
        table.add_column(column)
    waiting_note = False
    for entry in listing:
        latest = entry["latest_run"]
        latest_cell: Text | str = "Never"
        if latest is not None:
            when = latest["started_at"].replace("T", " ")[:16]
            latest_cell = Text.assemble(
                f"{latest['id']} ", status_text(RunStatus(latest["status"])), f" {when} UTC"
            )
        next_cell = _next_cell(entry)
        waiting_note = waiting_note or (entry["schedule"] is not None and not entry["picked_up"])
        table.add_row(entry["project"], entry["description"], latest_cell, next_cell)
    console.print(table)
    if waiting_note:
        console.print(
            "* computed from now: `integrator serve` has not picked this schedule up yet "
            "(it does as soon as it runs, and within seconds of a change to the file)"
        )


def _next_cell(entry: dict[str, Any]) -> str:
    if entry["schedule"] is None:
        return "Not scheduled"
    schedule = Schedule.model_validate(entry["schedule"])
    if entry["waiting_slot"]:
        waiting = datetime.fromisoformat(entry["waiting_slot"])
        return f"waiting (due {_when(waiting, schedule)})"
    if entry["next_run_at"] is None:
        return "None: the schedule has ended"
    text = _when(datetime.fromisoformat(entry["next_run_at"]), schedule)
    return text if entry["picked_up"] else f"{text} *"


@app.command("schedule")
@with_exit_codes()
def schedule_command(
    project: Annotated[
        str | None, typer.Argument(help="The project to schedule (not with --list).")
    ] = None,
    every: Annotated[
        str | None,
        typer.Option("--every", help="How often: 15m, 2h, 1d, 1w or 1mo (at least 1 minute)."),
    ] = None,
    starting_at: Annotated[
        str | None,
        typer.Option(
            "--starting-at",
            help="The first run, 2026-12-01T08:00, a wall-clock time in --time-zone "
            "(default: the next minute).",
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="No run after this date and time.")
    ] = None,
    time_zone: Annotated[
        str | None,
        typer.Option("--time-zone", help="The IANA time zone of the times (default UTC)."),
    ] = None,
    manual: Annotated[
        bool, typer.Option("--manual", help="Remove the schedule: run manually.")
    ] = False,
    list_all: Annotated[
        bool,
        typer.Option("--list", help="List every project's schedule, latest run and next run."),
    ] = False,
    workspace: WorkspaceOption = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="With --list: print one JSON document.")
    ] = False,
) -> None:
    """Schedule a project (Recur every N minutes, hours, days, weeks or months, in a time
    zone), run it manually again, or list the schedules. `integrator serve` runs them.

    The schedule is written into the project file (schedule: {every: 15, unit: minutes, ...}),
    its comments kept.

    Example: integrator schedule "Accounts (Sales to Fin and Ops)" --every 15m --workspace ./p2c
    """
    console = output_console(stderr=json_output)
    ws = load_workspace(workspace, strict=False)
    if list_all:
        if project is not None or every is not None or manual:
            raise UsageError("--list takes no PROJECT, --every or --manual")
        listing = _listing(ws)
        if json_output:
            document = {"schedules": listing}
            sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            _print_listing(console, listing)
        return
    if project is None:
        raise UsageError("name a PROJECT to schedule, or use --list")
    if manual:
        if every is not None or starting_at is not None or until is not None:
            raise UsageError("--manual takes no --every, --starting-at or --until")
        _set(ws, project, None, console)
        return
    if every is None:
        raise UsageError("say how often with --every (such as --every 15m), or use --manual")
    _set(ws, project, _new_schedule(every, starting_at, until, time_zone), console)
