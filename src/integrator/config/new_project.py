""" "New project": a project file copied from a shipped template or one the workspace saved."""

from __future__ import annotations

from pathlib import Path

from integrator.config.files import (
    PROJECTS_DIR,
    make_workspace_folder,
    project_text,
    write_workspace_file,
)
from integrator.config.workspace import Workspace
from integrator.errors import ConfigError
from integrator.templates.loader import TemplateEntry, shipped_template_texts

__all__ = ["check_new_project_name", "create_project"]

_UNUSABLE = '/\\:*?"<>|'


def create_project(
    workspace: Workspace, name: str, template: str, connection_set: str = "default"
) -> Path:
    """Write ``projects/<name>.yaml``: the tasks, mappings and prerequisites of ``template``
    (shipped or the workspace's own, case-insensitive), comments kept, bound to
    ``connection_set``. Returns the new file's path.

    Raises :class:`ConfigError` when ``name`` is taken (case-insensitive) or cannot be a file
    name, when there is no such template (naming the known ones) or its file is invalid, or
    when the workspace has no such connection set (naming the known ones).
    """
    project = check_new_project_name(workspace, name)
    entry = _template_entry(workspace, template)
    workspace.connection_set(connection_set)  # raises, naming the known ones
    target = workspace.root / PROJECTS_DIR / f"{project}.yaml"
    make_workspace_folder(target.parent)
    write_workspace_file(
        target, project_text(_template_text(workspace, entry), entry.name, connection_set)
    )
    workspace.project_files[project] = f"{PROJECTS_DIR}/{target.name}"
    return target


def check_new_project_name(workspace: Workspace, name: str) -> str:
    """``name`` stripped, when a new project may be called so; raises :class:`ConfigError`
    when it is taken (case-insensitive) or cannot be a file name."""
    project = name.strip()
    if not project or project.startswith(".") or any(c in project for c in _UNUSABLE):
        raise ConfigError(f'"{name}" cannot be a project name (no / \\ : * ? " < > |)')
    taken = [n for n in workspace.project_files if n.casefold() == project.casefold()]
    if taken:
        raise ConfigError(
            f'a project named "{taken[0]}" already exists ({workspace.project_files[taken[0]]})'
        )
    return project


def _template_entry(workspace: Workspace, name: str) -> TemplateEntry:
    for entry in workspace.templates:
        if entry.name.casefold() == name.strip().casefold():
            if entry.template is None:
                raise ConfigError(list(entry.problems))
            return entry
    known = ", ".join(f'"{e.name}"' for e in workspace.templates if e.template is not None)
    raise ConfigError(f'no template named "{name}" (known: {known or "none"})')


def _template_text(workspace: Workspace, entry: TemplateEntry) -> str:
    if entry.shipped:
        return shipped_template_texts()[entry.file.removeprefix("<shipped>/")]
    return (workspace.root / entry.file).read_text(encoding="utf-8")
