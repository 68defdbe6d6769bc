"""Run projects: validate, plan, lock, run each task, keep the history.

:class:`Engine` is the library entry point the CLI wraps::

    engine = Engine(load_workspace(path))
    summaries = engine.run(["Accounts (Sales to Fin and Ops)"])
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from integrator.config.validate import check_workspace, scope_problems
from integrator.config.workspace import Workspace
from integrator.connectors.base import EntityInfo, Record
from integrator.engine.connections import ConnectorPool, history_url
from integrator.engine.history import Counts, HistoryStore, RecordState, RunStatus, RunSummary
from integrator.engine.lock import ProjectLock
from integrator.engine.plan import plan_projects
from integrator.engine.task import PageOutcome, RunMode, TaskRunner, TaskSystems
from integrator.errors import (
    ConfigError,
    IntegratorError,
    NothingToRerun,
    RequestRejected,
    RunNotFound,
    SystemUnavailable,
)
from integrator.p2c.readiness import sales_upgrade_notes

__all__ = ["Engine", "Progress"]

log = logging.getLogger(__name__)

#: records no longer in the source removed per committed batch after a full read
_GONE_PER_BATCH = 1000
#: selected records gathered from source pages before a page goes through the legs (a multiple
#: of the 1000-operation ``$batch``), and at most this many source records held at once
_SELECTED_PER_PAGE = 5000
_RECORDS_PER_PAGE = 50000

INTERRUPTED_MESSAGE = (
    "the run stopped before it finished (its process was killed or the machine restarted); "
    "the next run went on from the last committed batch"
)


@dataclass(frozen=True)
class Progress:
    """What a progress display is told after each page."""

    project: str
    task: str
    counts: Counts


ProgressSink = Callable[[Progress], None]


class Engine:
    """Runs a workspace's projects and reads their history."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        connectors: ConnectorPool | None = None,
        progress: ProgressSink | None = None,
        lock_wait: float = 0.0,
    ) -> None:
        self.workspace = workspace
        self.connectors = connectors or ConnectorPool(workspace)
        self.progress = progress
        self.lock_wait = lock_wait
        self._history: HistoryStore | None = None
        self._described: dict[tuple[str, str], EntityInfo | None] = {}

    @property
    def history(self) -> HistoryStore:
        """The workspace's history store (opened and migrated on first use)."""
        if self._history is None:
            self._history = HistoryStore.open(history_url(self.workspace))
            self._history.purge(self.workspace.settings.history.retention_days)
        return self._history

    def close(self) -> None:
        """Close connectors and the history store."""
        self.connectors.close()
        if self._history is not None:
            self._history.close()

    # -- metadata and validation -----------------------------------------------------------

    def describe(self, system: str, entity: str) -> EntityInfo | None:
        """``entity`` as ``system`` (sales, cds, finops) describes it; ``None`` if unknown.

        Raises :class:`SystemUnavailable` naming ``system`` when it cannot be reached or
        refuses the credentials (that is not an unknown entity)."""
        key = (system, entity)
        if key not in self._described:
            try:
                self._described[key] = self.connectors.get(system).describe(entity)
            except RequestRejected:
                self._described[key] = None
            except SystemUnavailable as error:
                raise error.named(system=system) from None
        return self._described[key]

    def validate(self, projects: Sequence[str] = ()) -> None:
        """Check ``projects`` and their prerequisites (the whole workspace when empty) against
        the systems' metadata and reference data; raises :class:`ConfigError` with every
        problem (only what loading found, when a file cannot be loaded: the systems are not
        asked then). Nothing runs, nothing is written, when it raises."""
        loading = scope_problems(self.workspace, projects)
        if loading:
            raise ConfigError(loading)
        check_workspace(
            self.workspace, self.describe, projects=projects, connect=self.connectors.get
        )

    # -- running -------------------------------------------------------------------------------

    def plan(self, projects: Sequence[str]) -> list[str]:
        """Projects to run in order; refuses one whose prerequisite never completed."""
        done = (RunStatus.COMPLETED, RunStatus.WARNING)
        return plan_projects(
            self.workspace, projects, lambda p: self.history.last_run(p, done) is not None
        )

    def run(self, projects: Sequence[str] = (), *, all_data: bool = False) -> list[RunSummary]:
        """Validate, then run ``projects`` (all when empty), prerequisites first."""
        self.validate(projects)
        order = self.plan(projects)
        mode: RunMode = "all-data" if all_data else "incremental"
        return [self.run_project(name, mode) for name in order]

    def rerun(self, run_id: int) -> RunSummary:
        """Re-run execution: run ``run_id``'s failed records again, and only those.

        Raises :class:`RunNotFound` when there is no such run and :class:`NothingToRerun` (no
        run is added) when it has no failed records."""
        previous = self.history.run(run_id)
        if previous is None:
            raise RunNotFound(run_id)
        keys: dict[str, list[dict[str, Any]]] = {}
        for error in self.history.failed_records(run_id):
            if error.source_key is not None and error.source_key not in keys.setdefault(
                error.task, []
            ):
                keys[error.task].append(error.source_key)
        if not any(keys.values()):
            raise NothingToRerun(run_id, previous.project)
        self.validate([previous.project])
        return self.run_project(previous.project, "rerun", rerun_of=run_id, only_keys=keys)

    def run_project(
        self,
        name: str,
        mode: RunMode,
        *,
        rerun_of: int | None = None,
        only_keys: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> RunSummary:
        """Run one project under its lock; returns the finished run from the history."""
        project = self.workspace.project(name)
        lock = ProjectLock(self.workspace.root / ".integrator" / "locks", name)
        lock.acquire(wait=self.lock_wait)
        try:
            history = self.history
            history.mark_interrupted(name, INTERRUPTED_MESSAGE)
            run_id = history.start_run(
                name, [t.name for t in project.tasks], mode=mode, rerun_of=rerun_of
            )
            notes: list[str] = []
            try:
                connection_set = self.workspace.connection_set(project.connection_set)
                systems = TaskSystems(
                    source=self.connectors.get(project.source_system),
                    destination=self.connectors.get(project.destination_system),
                    cds=self.connectors.get("cds") if connection_set.cds is not None else None,
                )
                describe = self._describe_role(project.source_system, project.destination_system)
                if project.source_system == "sales":  # records the P2C upgrade has not set
                    read = [t.source_entity for t in project.tasks]
                    notes.extend(sales_upgrade_notes(systems.source, read, self.workspace.root))
                for position, task in enumerate(project.tasks):
                    runner = TaskRunner(
                        project=name,
                        task=task,
                        legs=task.legs(project.source_system, project.destination_system),
                        systems=systems,
                        describe=describe,
                        organization=connection_set.organization_mapping,
                    )
                    self._run_task(
                        runner,
                        run_id,
                        position,
                        mode,
                        notes,
                        only_keys=None if only_keys is None else only_keys.get(task.name, []),
                    )
                    history.finish_task(run_id, position)
                history.finish_run(run_id, message="; ".join(notes) or None)
            except IntegratorError as error:
                log.error("run %s of %s failed: %s", run_id, name, error)
                history.finish_run(run_id, RunStatus.ERROR, message=str(error))
            summary = history.run(run_id)
            assert summary is not None
            return summary
        finally:
            lock.release()

    def _describe_role(self, source: str, destination: str) -> Callable[[str, str], EntityInfo]:
        systems = {"source": source, "cds": "cds", "destination": destination}

        def describe(role: str, entity: str) -> EntityInfo:
            info = self.describe(systems[role], entity)
            if info is None:
                raise ConfigError(f"{systems[role]} has no entity {entity!r}")
            return info

        return describe

    def _run_task(
        self,
        runner: TaskRunner,
        run_id: int,
        position: int,
        mode: RunMode,
        notes: list[str],
        *,
        only_keys: list[dict[str, Any]] | None,
    ) -> None:
        history = self.history
        project, task = runner.project, runner.task.name
        total = Counts()

        def known(ids: Sequence[str]) -> Mapping[str, RecordState]:
            return history.states(project, task, ids)

        def ahead(states: list[RecordState]) -> None:
            history.record_batch(run_id, position, Counts(), states=(project, task, states, []))

        def commit(outcome: PageOutcome, checkpoint: str | None) -> None:
            history.record_batch(
                run_id,
                position,
                outcome.counts,
                outcome.errors,
                checkpoint=(project, task, checkpoint) if checkpoint is not None else None,
                states=(project, task, outcome.states, outcome.forget),
            )
            total.add(outcome.counts)
            if outcome.removed:
                log.info("%s / %s: removed %d stale rows", project, task, outcome.removed)
            if self.progress is not None:
                self.progress(Progress(project, task, total))

        def retry(source_ids: Sequence[str]) -> None:
            for page, missing in runner.read_ids(source_ids):
                commit(runner.process(page, missing, known, ahead), None)

        if only_keys is not None:
            retry([runner.source_id(key) for key in only_keys])
            return
        pending = (
            {state.source_id for state in history.pending_states(project, task)}
            if mode == "incremental"
            else set()
        )
        stored = history.checkpoint(project, task)
        seen: set[str] = set()
        for page, deleted, checkpoint in _gathered(runner, runner.read_pages(mode, stored, notes)):
            outcome = runner.process(page, deleted, known, ahead)
            commit(outcome, checkpoint)
            pending.difference_update(outcome.seen)
            if runner.full_read:
                seen.update(outcome.seen)
        if runner.full_read:
            # a full read reports no deletions: the records it did not see are gone (or left
            # the selection), and their rows must go too, as after a fresh full sync
            gone = [i for i in history.state_ids(project, task) if i not in seen]
            pending.difference_update(gone)
            for start in range(0, len(gone), _GONE_PER_BATCH):
                commit(
                    runner.process([], gone[start : start + _GONE_PER_BATCH], known, ahead), None
                )
        if pending:
            retry(sorted(pending))


def _gathered(
    runner: TaskRunner, pages: Iterator[tuple[list[Record], list[str], str | None]]
) -> Iterator[tuple[list[Record], list[str], str | None]]:
    """Source pages joined until they hold at least :data:`_SELECTED_PER_PAGE` records the task
    selects, so every write request downstream goes out full (a filter that keeps a third of a
    5000-record page would otherwise send a 1000 and a 700). The checkpoint given with a joined
    page is the newest among its parts: everything before it is in the page."""
    records: list[Record] = []
    deleted: list[str] = []
    checkpoint: str | None = None
    selected = 0
    for page, gone, mark in pages:
        records.extend(page)
        deleted.extend(gone)
        checkpoint = mark if mark is not None else checkpoint
        selected += sum(1 for record in page if runner.selected(record))
        if selected >= _SELECTED_PER_PAGE or len(records) >= _RECORDS_PER_PAGE:
            yield records, deleted, checkpoint
            records, deleted, checkpoint, selected = [], [], None, 0
    if records or deleted or checkpoint is not None:
        yield records, deleted, checkpoint
