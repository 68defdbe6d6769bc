"""The Scheduling tab and ``PUT /api/projects/{name}/schedule``: the schedule and notifications
written into the project file, every comment and line of the rest kept; refused in place, the
file unchanged, when something is wrong."""

from __future__ import annotations

import json
from pathlib import Path

from tests.commands import integrator
from tests.portal.client import PortalClient

ACCOUNTS = "Accounts (Sales to Fin and Ops)"


def _file(portal: PortalClient) -> Path:
    return portal.context.root / "projects" / f"{ACCOUNTS}.yaml"


def _version(portal: PortalClient) -> str:
    version: str = portal.get(f"/api/projects/{ACCOUNTS}").json()["version"]
    return version


def _recur(**fields: str) -> dict[str, str]:
    return {
        "recurrence": "recur",
        "every": "2",
        "unit": "hours",
        "start_date": "2030-01-06",
        "start_time": "08:30",
        "end_date": "",
        "end_time": "",
        "time_zone": "Europe/Paris",
        "emails": "",
        **fields,
    }


def test_save_schedule_writes_it_keeping_the_rest_of_the_file(portal: PortalClient) -> None:
    before = _file(portal).read_text()
    tab = portal.get(f"/projects/{ACCOUNTS}?tab=scheduling").text
    for label in ("Run manually", "Recur every", "Starting at", "Ending at", "Time zone"):
        assert label in tab
    assert "Notifications (email for warnings and failures)" in tab
    assert "Save schedule</button>" in tab
    saved = portal.form(f"/projects/{ACCOUNTS}/schedule", _recur(version=_version(portal)))
    assert saved.status_code == 200, saved.text  # type: ignore[attr-defined]
    assert "The schedule was saved." in saved.text  # type: ignore[attr-defined]
    after = _file(portal).read_text()
    schedule_lines = [line for line in after.splitlines(True) if line.startswith("schedule:")]
    assert schedule_lines == [
        "schedule: {every: 2, unit: hours, starting_at: '2030-01-06T08:30:00', "
        "time_zone: Europe/Paris}\n"
    ]
    assert "".join(line for line in after.splitlines(True) if line not in schedule_lines) == before
    listed = integrator("schedule", "--list", "--json", "--workspace", str(portal.context.root))
    assert listed.returncode == 0, listed.stderr
    entry = {e["project"]: e for e in json.loads(listed.stdout)["schedules"]}[ACCOUNTS]
    assert entry["schedule"]["every"] == 2 and entry["schedule"]["time_zone"] == "Europe/Paris"
    assert entry["next_run_at"] == "2030-01-06T07:30:00.000Z"
    listing = portal.get("/projects").text
    assert "in " in listing.split(ACCOUNTS, 2)[1].split("</tr>")[0]
    manual = portal.form(
        f"/projects/{ACCOUNTS}/schedule", {"recurrence": "manual", "version": _version(portal)}
    )
    assert manual.status_code == 200  # type: ignore[attr-defined]
    assert _file(portal).read_text() == before


def test_notifications_without_a_mail_server_are_refused_in_place(portal: PortalClient) -> None:
    before = _file(portal).read_text()
    refused = portal.form(
        f"/projects/{ACCOUNTS}/schedule",
        _recur(notify="on", emails="ops@example.com", version=_version(portal)),
    )
    assert refused.status_code == 422  # type: ignore[attr-defined]
    text = refused.text  # type: ignore[attr-defined]
    assert "Nothing was saved" in text
    assert "notifications need a mail server" in text and "integrator.yaml" in text
    assert 'value="ops@example.com"' in text  # what was typed stays
    assert _file(portal).read_text() == before


def test_a_bad_value_is_refused_in_place(portal: PortalClient) -> None:
    before = _file(portal).read_text()
    refused = portal.form(
        f"/projects/{ACCOUNTS}/schedule",
        _recur(end_date="2030-01-01", end_time="00:00", version=_version(portal)),
    )
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "ending_at must be after starting_at" in refused.text  # type: ignore[attr-defined]
    assert _file(portal).read_text() == before


def test_a_save_on_a_file_changed_since_is_refused_showing_the_change(
    portal: PortalClient,
) -> None:
    version = _version(portal)
    path = _file(portal)
    edited = path.read_text() + "# edited by hand\n"
    path.write_text(edited)
    refused = portal.form(f"/projects/{ACCOUNTS}/schedule", _recur(version=version))
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert "+# edited by hand" in refused.text  # type: ignore[attr-defined]
    assert "changed since you opened it" in refused.text  # type: ignore[attr-defined]
    assert path.read_text() == edited


def test_the_api_sets_schedule_and_notify(portal: PortalClient) -> None:
    settings = portal.context.root / "integrator.yaml"
    settings.write_text(
        settings.read_text() + "smtp: {host: mail.example.com, sender: integrator@example.com}\n"
    )
    headers = {"X-CSRF-Token": portal.csrf}
    body = {
        "schedule": {"every": 15, "unit": "minutes", "starting_at": "2030-01-01T00:00"},
        "notify": {"emails": ["ops@example.com"]},
        "version": _version(portal),
    }
    done = portal.put(f"/api/projects/{ACCOUNTS}/schedule", json=body, headers=headers)
    assert done.status_code == 200, done.text
    answer = done.json()
    assert answer["schedule"]["every"] == 15
    assert answer["notify"] == {"emails": ["ops@example.com"], "on": ["warning", "error"]}
    assert answer["version"] == _version(portal)
    text = _file(portal).read_text()
    assert "notify: {emails: [ops@example.com]}" in text
    bad = portal.put(
        f"/api/projects/{ACCOUNTS}/schedule",
        json={"schedule": {"every": 0, "unit": "fortnights"}, "notify": None},
        headers=headers,
    )
    assert bad.status_code == 422
    assert len(bad.json()["error"]["problems"]) == 2
    assert _file(portal).read_text() == text
    stale = portal.put(
        f"/api/projects/{ACCOUNTS}/schedule",
        json={"schedule": None, "notify": None, "version": body["version"]},
        headers=headers,
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
