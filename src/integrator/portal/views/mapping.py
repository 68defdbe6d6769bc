"""The mapping page: one task's rows, per leg, as Data Integrator's grid shows them (SOURCE
FIELD | MAP TYPE | DESTINATION FIELD | TEMPLATE VALUE / TRANSFORMS | ISSUES).

Edits are a draft kept in the page itself: every row travels in the form as a hidden JSON
input, and each action (edit, apply, remove, add, search) posts the form and gets the page
back with the draft changed; nothing is kept on the server between requests. **Save** writes
the draft to the project file through :func:`integrator.portal.api.mapping.save_tasks`:
validated first (refused with each problem on its row, nothing written), and refused when
the file changed since the page was opened (the ``version`` the form carries): then the page
shows what changed and a Reload link.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from integrator.config.edit import EditConflict
from integrator.errors import (
    ConfigError,
    ConfigProblem,
    IntegratorError,
    SystemUnavailable,
    UsageError,
)
from integrator.mapping.catalog import transform_catalog
from integrator.portal.api.mapping import (
    TaskList,
    read_task_list,
    save_tasks,
    validate_project,
)
from integrator.portal.context import PortalContext
from integrator.portal.responses import page
from integrator.portal.views.mapping_draft import (
    Draft,
    argument_text,
    chosen_step,
    rebuild_row,
    row_view,
    step_params,
    step_type,
)
from integrator.templates.model import LEG_TITLES

__all__ = ["routes"]

SYSTEM_NAMES = {"sales": "Sales", "cds": "CDS", "finops": "F&O"}
ERRORS_BANNER = "This project has mapping errors."


def _legs(task: Mapping[str, Any]) -> list[str]:
    if task.get("cds_entity") is None:
        return ["source_to_destination"]
    return ["source_to_cds", "cds_to_destination"]


def _leg_ends(
    document: Mapping[str, Any], task: Mapping[str, Any], leg: str
) -> tuple[str, str, str, str]:
    """(from system, from entity, to system, to entity) of ``leg``."""
    source = str(document.get("source_system") or "sales")
    destination = str(document.get("destination_system") or "finops")
    if leg == "source_to_cds":
        return source, str(task["source_entity"]), "cds", str(task["cds_entity"])
    if leg == "cds_to_destination":
        return "cds", str(task["cds_entity"]), destination, str(task["destination_entity"])
    return source, str(task["source_entity"]), destination, str(task["destination_entity"])


def _fields(portal: PortalContext, system: str, entity: str) -> tuple[list[str], str | None]:
    """The entity's field names, or why there are none."""
    try:
        info = portal.describe(system, entity)
    except SystemUnavailable as error:
        return [], f"{SYSTEM_NAMES.get(system, system)} is unavailable: {error}"
    except IntegratorError as error:
        return [], f"cannot read the fields of {entity} on {system}: {error}"
    if info is None:
        return [], f"{SYSTEM_NAMES.get(system, system)} has no entity {entity}"
    return sorted(info.fields, key=str.casefold), None


def _page_url(project: str, index: int, leg: str, **extra: str) -> str:
    query = urlencode({"leg": leg, **extra})
    return f"/projects/{quote(project, safe='')}/tasks/{index}/mapping?{query}"


@dataclass
class Outcome:
    """What the last action did, for the banners: saved, refused with ``problems``, refused
    as stale (``conflict``), or a ``notice``."""

    problems: list[ConfigProblem] | None = None
    conflict: EditConflict | None = None
    saved: str | None = None
    notice: str | None = None
    unavailable: str | None = None


def _build(
    portal: PortalContext,
    found: TaskList,
    index: int,
    draft: Draft,
    outcome: Outcome,
    editing: int | None = None,
    editing_transform: str | None = None,
    adding: Mapping[str, str] | None = None,
    edit_typed: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The template's values for ``draft`` of task ``index`` of ``found``."""
    task = found.tasks[index]
    workspace = portal.workspace()
    document = workspace.documents.get(found.file) or {}
    from_system, from_entity, to_system, to_entity = _leg_ends(document, task, draft.leg)
    from_fields, from_unavailable = _fields(portal, from_system, from_entity)
    to_fields, to_unavailable = _fields(portal, to_system, to_entity)
    rows = [row_view(i, row, draft.query) for i, row in enumerate(draft.rows)]
    prefix = f'project "{found.project}", task {task.get("name")}, leg {LEG_TITLES[draft.leg]}'
    leg_issues: list[str] = []
    for problem in outcome.problems or []:
        if problem.path == prefix:
            leg_issues.append(problem.message)
            continue
        for row in rows:
            row_path = f"{prefix}, row {row.index + 1}"
            if problem.path == row_path or problem.path.startswith(f"{row_path},"):
                detail = problem.path.removeprefix(row_path).removeprefix(", ")
                row.issues.append(f"{detail}: {problem.message}" if detail else problem.message)
    catalog = transform_catalog()
    file_rows = task.get(draft.leg) or []
    dirty = draft.rows != file_rows or draft.source_filter != (task.get("source_filter") or "")
    edit_row = rows[editing] if editing is not None and 0 <= editing < len(rows) else None
    edit_transform = (
        editing_transform
        if editing_transform is not None
        else (step_type(edit_row.step) if edit_row is not None and edit_row.step else "")
    )
    edit_args = (
        {k: argument_text(v) for k, v in step_params(edit_row.step).items()}
        if edit_row is not None and edit_row.step and editing_transform is None
        else {}
    )
    return {
        "project": found.project,
        "file": found.file,
        "task": task,
        "index": index,
        "legs": [
            (leg, LEG_TITLES[leg], _page_url(found.project, index, leg)) for leg in _legs(task)
        ],
        "leg": draft.leg,
        "leg_title": LEG_TITLES[draft.leg],
        "from_caption": f"{SYSTEM_NAMES.get(from_system, from_system)}.{from_entity}",
        "to_caption": f"{SYSTEM_NAMES.get(to_system, to_system)}.{to_entity}",
        "from_fields": from_fields,
        "to_fields": to_fields,
        "fields_unavailable": [m for m in (from_unavailable, to_unavailable) if m],
        "rows": rows,
        "shown": sum(not r.hidden for r in rows),
        "draft": draft,
        "dirty": dirty,
        "leg_issues": leg_issues,
        "outcome": outcome,
        "errors_banner": ERRORS_BANNER,
        "editing": edit_row,
        "edit_transform": edit_transform,
        "edit_args": edit_args,
        "adding": dict(adding or {}),
        "edit_typed": dict(edit_typed or {}),
        "catalog": catalog,
        "action": f"/projects/{quote(found.project, safe='')}/tasks/{index}/mapping",
        "reload_url": _page_url(found.project, index, draft.leg),
    }


def _task_index(found: TaskList, request: Request) -> int:
    index: int = request.path_params["task"]
    if not 0 <= index < len(found.tasks):
        raise UsageError(
            f'project "{found.project}" has no task {index} (it has {len(found.tasks)})'
        )
    return index


def _leg_of(task: Mapping[str, Any], asked: object) -> str:
    legs = _legs(task)
    return str(asked) if asked in legs else legs[0]


def _show(request: Request, values: dict[str, Any], status_code: int = 200) -> Response:
    return page(request, "mapping/page.html", values, status_code=status_code)


async def mapping_page(request: Request) -> Response:
    """The grid of one task's leg as the file has it, with its validation problems."""
    portal: PortalContext = request.app.state.portal

    def build() -> dict[str, Any]:
        found = read_task_list(portal.workspace(), request.path_params["name"])
        index = _task_index(found, request)
        task = found.tasks[index]
        leg = _leg_of(task, request.query_params.get("leg"))
        draft = Draft(
            leg,
            list(task.get(leg) or []),
            str(task.get("source_filter") or ""),
            found.version,
            str(request.query_params.get("q") or ""),
        )
        validation = validate_project(portal, found.project)
        saved = request.query_params.get("saved")
        outcome = Outcome(
            problems=validation.problems,
            unavailable=validation.unavailable,
            saved=f"Saved to {found.file}" if saved else None,
        )
        return _build(portal, found, index, draft, outcome)

    return _show(request, await run_in_threadpool(build))


def _draft_of(form: FormData, task: Mapping[str, Any]) -> Draft:
    rows: list[dict[str, Any]] = []
    for text in form.getlist("row"):
        try:
            row = json.loads(str(text))
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return Draft(
        _leg_of(task, form.get("leg")),
        rows,
        str(form.get("source_filter") or "").strip(),
        str(form.get("version") or ""),
        str(form.get("q") or ""),
    )


def _at(op: str, rows: Sequence[object]) -> int | None:
    _, _, number = op.partition(":")
    try:
        index = int(number)
    except ValueError:
        return None
    return index if 0 <= index < len(rows) else None


async def mapping_action(request: Request) -> Response:
    """One action of the page on the draft the form carries; ``op`` names it: ``edit:N``,
    ``apply:N``, ``cancel``, ``remove:N``, ``add``, ``search``, ``refresh``, ``save``."""
    portal: PortalContext = request.app.state.portal
    form = await request.form()

    def act() -> Response | tuple[dict[str, Any], int]:
        found = read_task_list(portal.workspace(), request.path_params["name"])
        index = _task_index(found, request)
        task = found.tasks[index]
        draft = _draft_of(form, task)
        op = str(form.get("op") or "")
        catalog = {doc.name: doc for doc in transform_catalog()}
        outcome = Outcome()
        editing: int | None = None
        editing_transform: str | None = None
        adding: dict[str, str] = {}
        edit_typed: dict[str, str] = {}
        verb = op.partition(":")[0]
        at = _at(op, draft.rows)
        if verb == "edit" and at is not None:
            editing = at
            if form.get("edit_for") == str(at) and "edit_transform" in form:
                # the transform chosen in the open editor changed: show its arguments,
                # keeping what was typed in the editor so far
                editing_transform = str(form.get("edit_transform") or "")
                edit_typed = {
                    k: str(form.get(k) or "") for k in ("edit_value", "edit_source") if k in form
                }
        elif verb == "apply" and at is not None:
            row = draft.rows[at]
            keep = form.get("edit_keep") == "1"
            step = None if keep else chosen_step(form, "edit", catalog)
            source = str(form.get("edit_source") or "").strip() or None
            draft.rows[at] = rebuild_row(row, source, step, keep, str(form.get("edit_value") or ""))
        elif verb == "remove" and at is not None:
            removed = draft.rows.pop(at)
            outcome.notice = f"Removed the row of {removed.get('destination')} (not saved yet)."
        elif verb == "add":
            destination = str(form.get("add_destination") or "").strip()
            adding = {k: str(v) for k, v in form.items() if k.startswith("add_")}
            if op == "add:arguments":
                pass  # the transform chosen changed: show its arguments
            elif not destination:
                outcome.notice = "Choose the destination field of the new row."
            else:
                source = str(form.get("add_source") or "").strip() or None
                step = chosen_step(form, "add", catalog)
                new = rebuild_row(
                    {"destination": destination},
                    source,
                    step,
                    False,
                    str(form.get("add_value") or ""),
                )
                draft.rows.append(new)
                adding = {}
                outcome.notice = f"Added a row for {destination} (not saved yet)."
        elif verb == "refresh":
            portal.refresh_metadata()
            outcome.notice = "The entities' fields were read again from the systems."
        elif verb == "save":
            tasks = [dict(t) for t in found.tasks]
            changed = dict(tasks[index])
            changed[draft.leg] = draft.rows
            if draft.source_filter:
                changed["source_filter"] = draft.source_filter
            else:
                changed.pop("source_filter", None)
            tasks[index] = changed
            try:
                save_tasks(portal, found.project, tasks, draft.version or None)
            except EditConflict as conflict:
                outcome.conflict = conflict
                return _build(portal, found, index, draft, outcome), 409
            except ConfigError as error:
                outcome.problems = error.problems
                return _build(portal, found, index, draft, outcome), 422
            return RedirectResponse(
                _page_url(found.project, index, draft.leg, saved="1"), status_code=303
            )
        return (
            _build(
                portal, found, index, draft, outcome, editing, editing_transform, adding, edit_typed
            ),
            200,
        )

    done = await run_in_threadpool(act)
    if isinstance(done, Response):
        return done
    values, status = done
    return _show(request, values, status)


routes: list[BaseRoute] = [
    Route("/projects/{name}/tasks/{task:int}/mapping", mapping_page, methods=["GET"]),
    Route("/projects/{name}/tasks/{task:int}/mapping", mapping_action, methods=["POST"]),
]
