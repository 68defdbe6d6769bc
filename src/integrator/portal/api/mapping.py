"""The mapping part of the JSON API: a project's task list read and written as JSON (the
project file's ``tasks:`` with the same keys), the systems' fields and the transform catalog.

A write is validated first, as a project and against the systems' metadata, without writing
anything: 422 with every problem (file, line, path, message). With the file's ``version`` it
is refused (409, with a diff of what changed) when the file changed since it was read. The
mapping page saves through :func:`save_tasks` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from integrator.config.edit import project_version
from integrator.config.tasks_edit import ProposedTasks, plain, update_project_tasks
from integrator.config.validate import check_workspace
from integrator.config.workspace import Workspace
from integrator.connectors.base import EntityInfo
from integrator.errors import (
    ConfigError,
    ConfigProblem,
    SystemUnavailable,
    UnavailableSystems,
    UsageError,
)
from integrator.mapping.catalog import transform_catalog
from integrator.portal.context import PortalContext, Validation
from integrator.portal.responses import api_error, json_response
from integrator.templates.yamldoc import read_document

__all__ = [
    "SavedTasks",
    "TaskList",
    "entity_fields",
    "read_task_list",
    "routes",
    "save_tasks",
    "validate_project",
]


@dataclass(frozen=True)
class TaskList:
    """A project's task list as its file holds it now: ``tasks`` as plain JSON, the file's
    ``version`` to hand back with an edit."""

    project: str
    file: str
    version: str
    tasks: list[dict[str, Any]]


@dataclass(frozen=True)
class SavedTasks:
    """A saved task list: the file written and its new version. ``unchecked`` says why the
    systems' metadata could not be checked (a system was down), else ``None``."""

    project: str
    file: str
    version: str
    unchecked: str | None


def resolve_project(workspace: Workspace, name: str) -> str:
    """The project ``name`` designates; :class:`UsageError` (404) when none does."""
    try:
        return workspace.project_name(name)
    except ConfigError as error:
        raise UsageError(str(error)) from None


def read_task_list(workspace: Workspace, name: str) -> TaskList:
    """``name``'s task list read from its file now. Raises :class:`UsageError` for an unknown
    project and :class:`ConfigError` when the file does not read as YAML."""
    project = resolve_project(workspace, name)
    file = workspace.project_files[project]
    version = project_version(workspace, project)
    document, problems = read_document(workspace.root / file, file)
    if problems:
        raise ConfigError(problems)
    tasks = plain(document.get("tasks")) if isinstance(document, dict) else None
    return TaskList(project, file, version, tasks if isinstance(tasks, list) else [])


def _check(portal: PortalContext, workspace: Workspace, name: str, file: str) -> Validation:
    """``name`` in ``workspace`` checked against the systems' metadata; only the problems of
    its own file count (another file's are the project page's to show)."""
    try:
        check_workspace(workspace, portal.describe, projects=[name])
    except ConfigError as error:
        return Validation(problems=[p for p in error.problems if p.file == file])
    except (SystemUnavailable, UnavailableSystems) as error:
        return Validation(unavailable=str(error))
    return Validation()


def validate_project(portal: PortalContext, name: str) -> Validation:
    """``name`` as its file is now, checked as :func:`save_tasks` checks an edit (its own
    file's problems; ``unavailable`` when a system could not be asked)."""
    workspace = portal.workspace()
    project = resolve_project(workspace, name)
    file = workspace.project_files[project]
    own = [p for p in workspace.problems if p.file == file]
    if own:
        return Validation(problems=own)
    return _check(portal, workspace, project, file)


def save_tasks(
    portal: PortalContext, name: str, tasks: list[dict[str, Any]], version: str | None
) -> SavedTasks:
    """Write ``tasks`` as ``name``'s task list (see
    :func:`integrator.config.tasks_edit.update_project_tasks`) once the proposal is valid as a
    project and against the systems' metadata. Raises :class:`ConfigError` with every problem
    (nothing written), :class:`EditConflict` when ``version`` is stale, :class:`UsageError`
    for an unknown project. When a system cannot be asked, the edit is written checked as a
    project only, and ``unchecked`` says why."""
    workspace = portal.workspace()
    project = resolve_project(workspace, name)
    unchecked: list[str] = []

    def against_metadata(proposed: ProposedTasks) -> list[ConfigProblem]:
        candidate = proposed.workspace(workspace, project)
        validation = _check(portal, candidate, project, proposed.file)
        if validation.unavailable is not None:
            unchecked.append(validation.unavailable)
        return validation.problems

    update_project_tasks(
        workspace, project, tasks, expected_version=version, check=against_metadata
    )
    file = workspace.project_files[project]
    return SavedTasks(
        project, file, project_version(workspace, project), unchecked[0] if unchecked else None
    )


def entity_fields(info: EntityInfo) -> list[dict[str, Any]]:
    """An entity's fields as the API gives them, sorted by name."""
    return [
        {
            "name": field.name,
            "type": field.type,
            "required": field.required,
            "read_only": field.read_only,
            "max_length": field.max_length,
        }
        for field in sorted(info.fields.values(), key=lambda f: f.name.casefold())
    ]


def _task_list_json(found: TaskList) -> dict[str, Any]:
    return {
        "project": found.project,
        "file": found.file,
        "version": found.version,
        "tasks": found.tasks,
    }


async def get_mapping(request: Request) -> Response:
    portal: PortalContext = request.app.state.portal
    found = await run_in_threadpool(read_task_list, portal.workspace(), request.path_params["name"])
    return json_response(_task_list_json(found))


async def put_mapping(request: Request) -> Response:
    portal: PortalContext = request.app.state.portal
    try:
        body = await request.json()
    except ValueError:
        return api_error(400, "bad-request", "the body is not JSON")
    if not isinstance(body, dict) or not isinstance(body.get("tasks"), list):
        return api_error(400, "bad-request", 'the body is {"tasks": [...], "version": "..."}')
    tasks = body["tasks"]
    version = body.get("version")
    if not all(isinstance(t, dict) for t in tasks):
        return api_error(400, "bad-request", "each task is an object")
    if version is not None and not isinstance(version, str):
        return api_error(400, "bad-request", "version is the text GET gave")
    saved = await run_in_threadpool(save_tasks, portal, request.path_params["name"], tasks, version)
    answer: dict[str, Any] = {
        "project": saved.project,
        "file": saved.file,
        "version": saved.version,
    }
    if saved.unchecked is not None:
        answer["unchecked"] = saved.unchecked
    return json_response(answer)


async def get_metadata(request: Request) -> Response:
    portal: PortalContext = request.app.state.portal
    system, entity = request.path_params["system"], request.path_params["entity"]
    if system not in ("sales", "cds", "finops"):
        return api_error(404, "not-found", f"no system {system!r} (sales, cds, finops)")
    info = await run_in_threadpool(portal.describe, system, entity)
    if info is None:
        return api_error(404, "not-found", f"entity '{entity}' does not exist on {system}")
    return json_response(
        {"system": system, "entity": info.name, "key": info.key, "fields": entity_fields(info)}
    )


async def get_transforms(request: Request) -> Response:
    return json_response([doc.as_dict() for doc in transform_catalog()])


routes: list[BaseRoute] = [
    Route("/api/projects/{name}/mapping", get_mapping, methods=["GET"]),
    Route("/api/projects/{name}/mapping", put_mapping, methods=["PUT"]),
    Route("/api/metadata/{system}/{entity}", get_metadata, methods=["GET"]),
    Route("/api/transforms", get_transforms, methods=["GET"]),
]
