"""The job queue of a workspace in distributed mode: enqueue runs and re-runs, cancel a job
that has not started, see what is waiting.

A request to run projects becomes one job per *chain*: the projects of the plan that are
linked by prerequisites, in plan order. A job runs the first project of its chain, then
defers the jobs of the rest (split into chains again, so projects that only share a
prerequisite run in parallel). Every job for a project holds ``lock=project:NAME`` (one run
of it at a time across all workers) and ``queueing_lock=project:NAME:next`` (at most one
waiting).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued

from integrator.config.workspace import Workspace
from integrator.distributed.conninfo import libpq_conninfo
from integrator.distributed.schema import ensure_schema
from integrator.engine.connections import history_url
from integrator.engine.plan import prerequisite_projects
from integrator.errors import ConfigError

__all__ = [
    "RUN_TASK",
    "Enqueued",
    "JobQueue",
    "QueuedCancel",
    "plan_chains",
    "project_lock",
    "queueing_lock",
]

#: the Procrastinate task name of a project run job
RUN_TASK = "integrator.run_project"


def project_lock(project: str) -> str:
    """The queue lock held while ``project`` runs: one run of it at a time, on any worker."""
    return f"project:{project}"


def queueing_lock(project: str) -> str:
    """The queueing lock of ``project``'s waiting job: at most one waits."""
    return f"project:{project}:next"


def plan_chains(workspace: Workspace, order: Sequence[str]) -> list[list[str]]:
    """``order`` (a plan, prerequisites first) split into the groups of projects linked by a
    prerequisite inside it, each in plan order; groups ordered by their first project."""
    group = {name: name for name in order}

    def root(name: str) -> str:
        while group[name] != name:
            name = group[name]
        return name

    for name in order:
        for prior in prerequisite_projects(workspace, name):
            if prior in group:
                group[root(prior)] = root(name)
    chains: dict[str, list[str]] = {}
    for name in order:
        chains.setdefault(root(name), []).append(name)
    return list(chains.values())


@dataclass(frozen=True)
class Enqueued:
    """One job deferred for ``project`` (``job_id``), or none because one already waits
    (``job_id`` is then the waiting job's, when it could be read); ``then``: the projects
    its job defers once it ends, in order."""

    project: str
    job_id: int | None
    then: tuple[str, ...] = ()
    already_waiting: bool = False

    def describe(self) -> str:
        """One line saying what was enqueued."""
        after = f"; then {', '.join(self.then)} once it ends" if self.then else ""
        if self.already_waiting:
            which = f" (job {self.job_id})" if self.job_id is not None else ""
            return (
                f"{self.project}: a run of it is already waiting in the queue{which}; "
                f"not enqueued again{after}"
            )
        return f"{self.project}: job {self.job_id}{after}"

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` form."""
        return {
            "project": self.project,
            "job": self.job_id,
            "then": list(self.then),
            "already_waiting": self.already_waiting,
        }


@dataclass(frozen=True)
class QueuedCancel:
    """What cancelling job ``job_id`` did: ``cancelled`` (it was waiting; it will not run),
    ``running`` (a worker runs it: cancel its run, ``run_id`` when known), ``ended`` or
    ``unknown`` (no such job)."""

    state: Literal["cancelled", "running", "ended", "unknown"]
    job_id: int
    project: str | None = None
    run_id: int | None = None


@dataclass
class JobQueue:
    """The queue of a distributed workspace, used synchronously (open it, or use ``with``)."""

    workspace: Workspace
    app: procrastinate.App = field(init=False)

    def __post_init__(self) -> None:
        workers = self.workspace.settings.workers
        if workers is None or not self.workspace.settings.distributed:
            raise ConfigError("this workspace is not in distributed mode (no workers: queue)")
        self.queue_name = workers.queue_name
        self.conninfo = queue_conninfo(self.workspace)
        self.app = procrastinate.App(
            connector=procrastinate.SyncPsycopgConnector(conninfo=self.conninfo)
        )
        self._opened = False

    def open(self) -> JobQueue:
        """Connect (creating the queue's tables on first use); returns ``self``."""
        if not self._opened:
            ensure_schema(self.conninfo)
            self.app.open()
            self._opened = True
        return self

    def close(self) -> None:
        """Disconnect."""
        if self._opened:
            self.app.close()
            self._opened = False

    def __enter__(self) -> JobQueue:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def enqueue_plan(
        self,
        order: Sequence[str],
        *,
        all_data: bool = False,
        retry_failed: bool = False,
        trigger: str = "manual",
        scheduled_for: str | None = None,
        request: str | None = None,
    ) -> list[Enqueued]:
        """Defer the jobs of ``order`` (a plan from ``Engine.plan``): one per chain of
        :func:`plan_chains`. A project whose run already waits is not deferred again
        (said in its :class:`Enqueued`). ``request`` tags every job of this request and
        the jobs they defer (default: a new id)."""
        tag = request or uuid.uuid4().hex
        return [
            self.defer_chain(
                chain,
                all_data=all_data,
                retry_failed=retry_failed,
                trigger=trigger,
                scheduled_for=scheduled_for,
                request=tag,
            )
            for chain in plan_chains(self.workspace, order)
        ]

    def enqueue_rerun(self, run_id: int, project: str, *, request: str | None = None) -> Enqueued:
        """Defer a job re-running ``run_id``'s failed records (of ``project``)."""
        return self.defer_chain(
            [project], rerun_of=run_id, trigger="rerun", request=request or uuid.uuid4().hex
        )

    def defer_chain(
        self,
        chain: Sequence[str],
        *,
        all_data: bool = False,
        retry_failed: bool = False,
        rerun_of: int | None = None,
        trigger: str = "manual",
        scheduled_for: str | None = None,
        request: str,
        schedule_in: float | None = None,
    ) -> Enqueued:
        """Defer the job running ``chain[0]`` then deferring the rest (see the module)."""
        head = chain[0]
        kwargs: dict[str, Any] = {
            "workspace": str(self.workspace.root),
            "chain": list(chain),
            "all_data": all_data,
            "retry_failed": retry_failed,
            "rerun_of": rerun_of,
            "trigger": trigger,
            "scheduled_for": scheduled_for,
            "request": request,
        }
        options: dict[str, Any] = {}
        if schedule_in is not None:
            options["schedule_in"] = {"seconds": schedule_in}
        deferrer = self.app.configure_task(
            name=RUN_TASK,
            queue=self.queue_name,
            lock=project_lock(head),
            queueing_lock=queueing_lock(head),
            task_kwargs=kwargs,
            **options,
        )
        try:
            job_id = deferrer.defer()
        except AlreadyEnqueued:
            return Enqueued(head, self.waiting_job(head), tuple(chain[1:]), already_waiting=True)
        return Enqueued(head, job_id, tuple(chain[1:]))

    def waiting_job(self, project: str) -> int | None:
        """The id of ``project``'s job waiting in the queue, if one does."""
        row = self._one(
            "SELECT id FROM procrastinate_jobs WHERE queueing_lock = %(lock)s "
            "AND status = 'todo' ORDER BY id LIMIT 1",
            lock=queueing_lock(project),
        )
        return None if row is None else int(row[0])

    def pending(self, request: str) -> int:
        """How many jobs of ``request`` are waiting or running."""
        row = self._one(
            "SELECT count(*) FROM procrastinate_jobs WHERE args->>'request' = %(request)s "
            "AND status IN ('todo', 'doing')",
            request=request,
        )
        return 0 if row is None else int(row[0])

    def cancel(self, job_id: int) -> QueuedCancel:
        """Cancel job ``job_id`` when it has not started (it then never runs, nor do the
        projects it would have deferred). A job a worker runs is left to ``integrator
        cancel RUN`` (its run is named when the history shows it)."""
        if self.app.job_manager.cancel_job_by_id(job_id):
            project = self._job_project(job_id)
            return QueuedCancel("cancelled", job_id, project)
        row = self._one(
            "SELECT status, args->'chain'->>0 FROM procrastinate_jobs WHERE id = %(id)s",
            id=job_id,
        )
        if row is None:
            return QueuedCancel("unknown", job_id)
        status, project = str(row[0]), row[1]
        if status == "doing":
            return QueuedCancel("running", job_id, project, self._running_run(project))
        return QueuedCancel("ended", job_id, project)

    def _job_project(self, job_id: int) -> str | None:
        row = self._one(
            "SELECT args->'chain'->>0 FROM procrastinate_jobs WHERE id = %(id)s", id=job_id
        )
        return None if row is None else row[0]

    def _running_run(self, project: str | None) -> int | None:
        if project is None:
            return None
        from integrator.engine.history import HistoryStore, RunStatus

        store = HistoryStore.open(history_url(self.workspace))
        try:
            runs = store.log.runs(project, limit=1)
        finally:
            store.close()
        if runs and runs[0].status == RunStatus.RUNNING:
            return runs[0].id
        return None

    def _one(self, query: str, **params: Any) -> tuple[Any, ...] | None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            found: tuple[Any, ...] | None = conn.execute(query, params).fetchone()
            return found


def queue_conninfo(workspace: Workspace) -> str:
    """The libpq conninfo of ``workspace``'s history database, its password filled in."""
    return libpq_conninfo(history_url(workspace))


def workspace_root(kwargs: dict[str, Any]) -> Path:
    """The workspace folder a job's arguments name."""
    return Path(str(kwargs["workspace"]))
