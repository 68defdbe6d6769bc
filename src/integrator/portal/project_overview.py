"""What the projects page and ``GET /api/projects`` show of each project: its connection set
and systems, its latest run (one query for every project) and its next scheduled run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from integrator.cli.project_view import SYSTEM_NAMES
from integrator.config.models import ConnectionSet, Project
from integrator.config.workspace import Workspace
from integrator.engine.history import HistoryStore
from integrator.engine.history.clock import iso
from integrator.engine.history.tables import runs
from integrator.errors import UsageError
from integrator.schedule import describe
from integrator.schedule.book import ScheduleBook
from integrator.schedule.settings import next_run

__all__ = [
    "LatestRun",
    "ProjectOverview",
    "exact_project",
    "latest_runs",
    "overview",
    "systems_of",
]

_SYSTEMS = ("sales", "cds", "finops")


@dataclass(frozen=True)
class LatestRun:
    """A project's newest run, as a list shows it."""

    id: int
    status: str
    started_at: str
    finished_at: str | None

    def json(self) -> dict[str, Any]:
        """``{"id", "status", "started_at", "finished_at"}``."""
        return {
            "id": self.id,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


@dataclass(frozen=True)
class ProjectOverview:
    """One row of the projects page. ``project`` is ``None`` when its file has problems."""

    name: str
    file: str
    project: Project | None
    connection_set: str | None
    systems: list[str]
    latest: LatestRun | None
    schedule_text: str
    next_run_at: datetime | None

    def json(self) -> dict[str, Any]:
        """The row as ``GET /api/projects`` lists it."""
        return {
            "name": self.name,
            "file": self.file,
            "template": self.project.template if self.project else None,
            "connection_set": self.connection_set,
            "systems": self.systems,
            "loaded": self.project is not None,
            "schedule": self.schedule_text,
            "latest_run": self.latest.json() if self.latest else None,
            "next_run_at": iso(self.next_run_at) if self.next_run_at else None,
        }


def systems_of(connection_set: ConnectionSet | None) -> list[str]:
    """The systems a connection set connects, as people name them (``Sales``, ``CDS``,
    ``F&O``)."""
    if connection_set is None:
        return []
    return [SYSTEM_NAMES[s] for s in _SYSTEMS if connection_set.connection(s) is not None]  # type: ignore[arg-type]


def latest_runs(history: HistoryStore) -> dict[str, LatestRun]:
    """Each project's newest run, read in one query."""
    newest = sa.select(sa.func.max(runs.c.id)).group_by(runs.c.project).scalar_subquery()
    query = sa.select(
        runs.c.id, runs.c.project, runs.c.status, runs.c.started_at, runs.c.finished_at
    ).where(runs.c.id.in_(newest))
    with history.engine.connect() as conn:
        return {
            row.project: LatestRun(row.id, row.status, row.started_at, row.finished_at)
            for row in conn.execute(query)
        }


def overview(workspace: Workspace, history: HistoryStore) -> list[ProjectOverview]:
    """Every project of ``workspace`` (by name), with its latest and next run."""
    latest = latest_runs(history)
    book = {row.project: row for row in ScheduleBook(history.engine).rows()}
    now = datetime.now(UTC)
    rows: list[ProjectOverview] = []
    for name in sorted(workspace.project_files, key=str.casefold):
        project = workspace.projects.get(name)
        set_name = project.connection_set if project else None
        schedule = project.schedule if project else None
        coming = next_run(schedule, book.get(name), now) if schedule is not None else None
        rows.append(
            ProjectOverview(
                name=name,
                file=workspace.project_files[name],
                project=project,
                connection_set=set_name,
                systems=systems_of(workspace.connection_sets.get(set_name or "")),
                latest=latest.get(name),
                schedule_text=describe(schedule) if project else "(file has problems)",
                next_run_at=coming.at if coming else None,
            )
        )
    return rows


def exact_project(workspace: Workspace, name: str) -> str:
    """``name`` when it is exactly one of the workspace's projects (a URL names a project in
    full: no prefix matching there); raises :class:`UsageError` (answered 404) otherwise."""
    if name not in workspace.project_files:
        raise UsageError(f'no project named "{name}" in {workspace.root}')
    return name
