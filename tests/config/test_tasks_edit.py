"""Editing a project's task list as the portal does: only what changed is rewritten."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pytest

from integrator.config import load_workspace
from integrator.config.edit import EditConflict, project_version
from integrator.config.tasks_edit import plain, update_project_tasks
from integrator.errors import ConfigError
from integrator.templates.yamldoc import read_document

CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
FILE = f"projects/{CONTACTS}.yaml"


def _tasks(root: Path) -> list[dict[str, Any]]:
    document, problems = read_document(root / FILE, FILE)
    assert not problems
    tasks: list[dict[str, Any]] = plain(document["tasks"])
    return tasks


def _changed_lines(before: str, after: str) -> list[str]:
    """The lines a unified diff marks removed (``-``) or added (``+``)."""
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def _row(task: dict[str, Any], leg: str, destination: str) -> dict[str, Any]:
    row: dict[str, Any] = next(r for r in task[leg] if r["destination"] == destination)
    return row


def test_the_same_tasks_leave_the_file_byte_for_byte(workspace: Path) -> None:
    before = (workspace / FILE).read_text()
    update_project_tasks(
        load_workspace(workspace), CONTACTS, _tasks(workspace), expected_version=None
    )
    assert (workspace / FILE).read_text() == before


def test_a_changed_template_value_changes_exactly_its_line(workspace: Path) -> None:
    before = (workspace / FILE).read_text()
    tasks = _tasks(workspace)
    row = _row(tasks[0], "cds_to_destination", "PrimaryAddressCountryRegionISOCode")
    row["transforms"][0]["value"] = "CAN"
    update_project_tasks(load_workspace(workspace), CONTACTS, tasks, expected_version=None)
    after = (workspace / FILE).read_text()
    assert _changed_lines(before, after) == [
        "-        transforms: [{type: Default, value: USA}]",
        "+        transforms: [{type: Default, value: CAN}]",
    ]


def test_a_removed_row_takes_only_its_line_and_the_comments_stay(workspace: Path) -> None:
    before = (workspace / FILE).read_text()
    tasks = _tasks(workspace)
    leg = tasks[0]["cds_to_destination"]
    kept = [r for r in leg if r["destination"] != "DecisionMakingRoleCode"]
    tasks[0]["cds_to_destination"] = kept
    update_project_tasks(load_workspace(workspace), CONTACTS, tasks, expected_version=None)
    after = (workspace / FILE).read_text()
    assert _changed_lines(before, after) == [
        "-      - {destination: DecisionMakingRoleCode, source: PrimaryAccountRole}"
    ]
    assert "# Contact persons written from Sales are maintained there." in after
    assert "# (DecisionMakingRoles), or remove this row." in after


def test_a_new_row_is_added_in_flow_style_after_its_predecessor(workspace: Path) -> None:
    before = (workspace / FILE).read_text()
    tasks = _tasks(workspace)
    leg = tasks[0]["source_to_cds"]
    leg.insert(2, {"destination": "Description", "transforms": [{"type": "Default", "value": "x"}]})
    update_project_tasks(load_workspace(workspace), CONTACTS, tasks, expected_version=None)
    after = (workspace / FILE).read_text()
    assert _changed_lines(before, after) == [
        "+      - {destination: Description, transforms: [{type: Default, value: x}]}"
    ]
    lines = after.splitlines()
    added = lines.index(_changed_lines(before, after)[0][1:])
    assert lines[added - 1] == "      - {destination: FirstName, source: firstname}"


def test_a_changed_source_filter_changes_its_line(workspace: Path) -> None:
    before = (workspace / FILE).read_text()
    tasks = _tasks(workspace)
    tasks[0]["source_filter"] = "statecode eq 0"
    update_project_tasks(load_workspace(workspace), CONTACTS, tasks, expected_version=None)
    changed = _changed_lines(before, (workspace / FILE).read_text())
    assert changed == [
        "-    source_filter: msdynce_isactivecustomer eq false and "
        "msdynce_iscompanyanaccount eq true",
        "+    source_filter: statecode eq 0",
    ]


def test_an_invalid_task_list_writes_nothing_and_names_file_and_line(workspace: Path) -> None:
    before = (workspace / FILE).read_bytes()
    tasks = _tasks(workspace)
    tasks[0]["cds_to_destination"][0]["colour"] = "red"
    with pytest.raises(ConfigError) as raised:
        update_project_tasks(load_workspace(workspace), CONTACTS, tasks, expected_version=None)
    (problem,) = raised.value.problems
    assert problem.file == FILE
    assert problem.line is not None
    assert "leg CDS → Destination, row 1" in problem.path
    assert "unknown key 'colour'" in problem.message
    assert (workspace / FILE).read_bytes() == before


def test_a_stale_version_is_refused_with_the_change_in_a_diff(workspace: Path) -> None:
    ws = load_workspace(workspace)
    version = project_version(ws, CONTACTS)
    first = _tasks(workspace)
    first[0]["source_filter"] = "statecode eq 0"
    update_project_tasks(ws, CONTACTS, first, expected_version=version)
    saved = (workspace / FILE).read_text()
    second = _tasks(workspace)
    second[0]["source_filter"] = "statecode eq 1"
    with pytest.raises(EditConflict) as raised:
        update_project_tasks(ws, CONTACTS, second, expected_version=version)
    assert "+    source_filter: statecode eq 0" in raised.value.diff
    assert (workspace / FILE).read_text() == saved


def test_a_moved_row_is_removed_where_it_was_and_written_where_it_is_now(
    workspace: Path,
) -> None:
    before = (workspace / FILE).read_text()
    tasks = _tasks(workspace)
    leg = tasks[0]["cds_to_destination"]
    fax = next(r for r in leg if r["destination"] == "PrimaryFaxNumber")
    leg.remove(fax)
    leg.append({"destination": "PrimaryFaxNumber", "source": "PhoneCell"})
    update_project_tasks(load_workspace(workspace), CONTACTS, tasks, expected_version=None)
    assert _changed_lines(before, (workspace / FILE).read_text()) == [
        "-      - {destination: PrimaryFaxNumber, source: Fax}",
        "+      - {destination: PrimaryFaxNumber, source: PhoneCell}",
    ]
