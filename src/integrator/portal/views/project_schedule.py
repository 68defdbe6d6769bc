"""The Scheduling tab's form: its fields filled from the project file, and the ``schedule:``
and ``notify:`` values it asks for (Run manually or Recur every N minutes to months, from a
date and time, until an optional end, in a time zone; e-mail for warnings and failures)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import available_timezones

from starlette.datastructures import FormData

from integrator.config.edit import project_version
from integrator.config.workspace import Workspace
from integrator.schedule.settings import schedule_value

__all__ = ["UNITS", "ZONES", "schedule_form", "schedule_from_form"]

UNITS = ("minutes", "hours", "days", "weeks", "months")
#: the zones offered first in the Time zone list (all others follow, by name)
_COMMON_ZONES = ("UTC", "Europe/London", "Europe/Paris", "America/New_York", "America/Chicago")
ZONES: list[str] = [*_COMMON_ZONES, *sorted(available_timezones() - set(_COMMON_ZONES))]


def _start_parts(moment: datetime | None) -> tuple[str, str]:
    if moment is None:
        return "", ""
    return moment.date().isoformat(), moment.time().strftime("%H:%M")


def schedule_form(workspace: Workspace, name: str) -> dict[str, Any]:
    """The Scheduling tab's fields as the project file has them now."""
    project = workspace.project(name)
    schedule, notify = project.schedule, project.notify
    start_date, start_time = _start_parts(schedule.starting_at if schedule else None)
    end_date, end_time = _start_parts(schedule.ending_at if schedule else None)
    return {
        "recur": schedule is not None,
        "every": schedule.every if schedule else 1,
        "unit": schedule.unit if schedule else "hours",
        "start_date": start_date,
        "start_time": start_time,
        "end_date": end_date,
        "end_time": end_time,
        "time_zone": schedule.time_zone if schedule else "UTC",
        "notify": notify is not None,
        "emails": ", ".join(notify.emails) if notify else "",
        "version": project_version(workspace, name),
    }


def _moment(day: str, clock: str, label: str) -> datetime | None:
    """``day`` and ``clock`` (from date and time inputs) as one naive wall-clock time."""
    if not day.strip():
        if clock.strip():
            raise ValueError(f"{label}: give a date with the time")
        return None
    try:
        when = date.fromisoformat(day.strip())
        at = time.fromisoformat(clock.strip()) if clock.strip() else time(0, 0)
    except ValueError:
        raise ValueError(f"{label}: {day} {clock} is not a date and time") from None
    return datetime.combine(when, at)


def schedule_from_form(form: FormData) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The ``schedule:`` and ``notify:`` values the Scheduling tab's ``form`` asks for
    (``None``: Run manually / no notifications). Raises ``ValueError`` saying which field is
    wrong."""
    schedule: dict[str, Any] | None = None
    if form.get("recurrence") == "recur":
        try:
            every = int(str(form.get("every", "")).strip())
        except ValueError:
            raise ValueError("Recur every: write a whole number of at least 1") from None
        if every < 1:
            raise ValueError("Recur every: write a whole number of at least 1")
        unit = str(form.get("unit", ""))
        if unit not in UNITS:
            raise ValueError(f"Recur every: choose one of {', '.join(UNITS)}")
        start = _moment(
            str(form.get("start_date", "")), str(form.get("start_time", "")), "Starting at"
        )
        end = _moment(str(form.get("end_date", "")), str(form.get("end_time", "")), "Ending at")
        zone = str(form.get("time_zone") or "UTC")
        schedule = schedule_value(every, unit, start, end, None if zone == "UTC" else zone)
    notify: dict[str, Any] | None = None
    if form.get("notify"):
        emails = [e.strip() for e in str(form.get("emails", "")).replace(";", ",").split(",")]
        emails = [e for e in emails if e]
        if not emails:
            raise ValueError("Notifications: write at least one e-mail address")
        notify = {"emails": emails}
    return schedule, notify
