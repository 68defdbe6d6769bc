"""What the portal does to a project as a whole: delete its file (its history is kept), and
set its schedule and notifications together, both checked before either is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from integrator.config.edit import EDIT_LOCK, check_version, set_project_key
from integrator.config.files import SETTINGS_FILE
from integrator.config.models import Notify, Schedule
from integrator.config.workspace import Workspace
from integrator.errors import ConfigError, ConfigProblem

__all__ = ["delete_project", "dependents_of", "set_schedule_and_notify"]


def dependents_of(workspace: Workspace, project: str) -> list[tuple[str, str]]:
    """``(dependent, template)`` for each other project whose prerequisite ``template``
    (``required_prior``) only ``project`` provides: deleting ``project`` would leave it
    unable to run."""
    name = workspace.project_name(project)
    found: list[tuple[str, str]] = []
    for other, loaded in sorted(workspace.projects.items()):
        if other == name:
            continue
        for template in loaded.required_prior:
            providers = workspace.projects_from_template(template)
            if providers == [name]:
                found.append((other, template))
    return found


def delete_project(workspace: Workspace, project: str) -> Path:
    """Delete ``project``'s file (``projects/<name>.yaml``; its execution history is kept) and
    return its path. Raises :class:`ConfigError` for an unknown project and, without deleting,
    when another project requires it as a prerequisite (naming which and why)."""
    name = workspace.project_name(project)
    dependents = dependents_of(workspace, name)
    if dependents:
        why = "; ".join(
            f'"{other}" requires "{template}" first (sync tasks required prior)'
            for other, template in dependents
        )
        raise ConfigError(
            f'"{name}" is not deleted: {why}, and only "{name}" provides it. '
            "Delete or change that project first."
        )
    with EDIT_LOCK:
        path = workspace.root / workspace.project_files[name]
        path.unlink()
    workspace.project_files.pop(name, None)
    workspace.projects.pop(name, None)
    return path


def _problems(model: type[BaseModel], value: Any, file: str, key: str) -> list[ConfigProblem]:
    try:
        model.model_validate(value)
    except ValidationError as error:
        return [
            ConfigProblem(
                file,
                None,
                ".".join([key, *(str(part) for part in item["loc"])]),
                str(item["msg"]).removeprefix("Value error, "),
            )
            for item in error.errors()
        ]
    return []


def set_schedule_and_notify(
    workspace: Workspace,
    project: str,
    schedule: dict[str, Any] | None,
    notify: dict[str, Any] | None,
    *,
    expected_version: str | None = None,
) -> Path:
    """Write ``schedule:`` and ``notify:`` of ``project`` (``None`` removes the key), comments
    and layout kept. Both are checked first (and notify needs ``settings.smtp`` in
    integrator.yaml): a problem raises :class:`ConfigError` with every problem and nothing is
    written. Raises :class:`EditConflict` when ``expected_version`` is given and the file is no
    longer at it. Returns the file."""
    name = workspace.project_name(project)
    file = workspace.project_files[name]
    problems: list[ConfigProblem] = []
    if schedule is not None:
        problems += _problems(Schedule, schedule, file, "schedule")
    if notify is not None:
        problems += _problems(Notify, notify, file, "notify")
        if workspace.settings.smtp is None:
            problems.append(
                ConfigProblem(
                    file,
                    None,
                    f'project "{name}": notify',
                    f"notifications need a mail server: add settings.smtp (host, port, sender) "
                    f"to {SETTINGS_FILE}, or turn notifications off",
                )
            )
    if problems:
        raise ConfigError(problems)
    with EDIT_LOCK:  # both keys, one edit: no other save comes between them
        check_version(workspace, name, expected_version)
        set_project_key(workspace, name, "schedule", schedule)
        return set_project_key(workspace, name, "notify", notify)
