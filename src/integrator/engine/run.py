"""Run projects: validate, plan, lock, run each task, keep the history.

:class:`Engine` is the library entry point the CLI wraps::

    engine = Engine(load_workspace(path))
    summaries = engine.run(["Accounts (Sales to Fin and Ops)"])
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from integrator.config.organization import OrganizationLookup
from integrator.config.validate import check_workspace, scope_problems
from integrator.config.workspace import Workspace
from integrator.connectors.base import EntityInfo
from integrator.engine.collector import fewer_collections
from integrator.engine.connections import ConnectorPool, history_url
from integrator.engine.control import HEARTBEAT_SECONDS, SERVE, RunControl, RunStopped
from integrator.engine.history import (
    Counts,
    EndReason,
    HistoryStore,
    RunLog,
    RunStatus,
    RunSummary,
    Trigger,
)
from integrator.engine.history.errors import HistoryError, HistoryFull, HistoryUnreachable
from integrator.engine.history.runlog import FinishHook
from integrator.engine.lock import ProjectLock
from integrator.engine.partition_driver import PartitionDriver, run_in_process
from integrator.engine.plan import plan_projects
from integrator.engine.read import RunMode, reads_changes
from integrator.engine.task import Progress, ProgressSink, TaskRunner, guarded
from integrator.engine.taskplan import TaskSystems, build_plan
from integrator.errors import (
    ConfigError,
    IntegratorError,
    NothingToRerun,
    RequestRejected,
    RunNotFound,
    StageFailed,
    SystemUnavailable,
)
from integrator.p2c.readiness import sales_upgrade_notes, upgrade_check_due

__all__ = ["Engine", "Progress", "ProgressSink"]

log = logging.getLogger(__name__)

INTERRUPTED_MESSAGE = (
    "the run stopped before it finished (its process was killed or the machine restarted); "
    "the next run went on from the last committed batch"
)
STOPPED_MESSAGE = (
    "the run was interrupted (SIGINT or SIGTERM); what it committed stays, the next run goes "
    "on from the last committed batch"
)


class Engine:
    """Runs a workspace's projects and reads their history."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        connectors: ConnectorPool | None = None,
        progress: ProgressSink | None = None,
        lock_wait: float = 0.0,
        stop: threading.Event | None = None,
        on_finish: FinishHook | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        stopped_by: str = SERVE,
        partition_driver: PartitionDriver = run_in_process,
    ) -> None:
        """``stop``, once set, ends the run in progress after its current batch commits
        (recorded Interrupted, the message naming ``stopped_by``, the process whose stop
        event it is) and starts no other; ``on_finish`` runs in the transaction
        that records each run's end (default: the workspace's notification outbox); a running
        run writes its heartbeat every ``heartbeat_seconds``; a task cut into partitions has
        them run by ``partition_driver`` (default: one after another in this process)."""
        from integrator.notify import notification_hook

        self.workspace = workspace
        self.connectors = connectors or ConnectorPool(workspace)
        self.progress = progress
        self.lock_wait = lock_wait
        self.stop = stop
        self.heartbeat_seconds = heartbeat_seconds
        self.stopped_by = stopped_by
        self.partition_driver = partition_driver
        self.on_finish = on_finish if on_finish is not None else notification_hook(workspace)
        #: called with each run's id as soon as the run is recorded (the portal answers then)
        self.on_run_start: Callable[[int], None] | None = None
        self._history: HistoryStore | None = None
        self._described: dict[tuple[str, str], EntityInfo | None] = {}
        self._organizations = OrganizationLookup(self.connectors.get)

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
            self.workspace, self.describe, projects=projects, connect=self._organizations
        )

    # -- running -------------------------------------------------------------------------------

    def plan(self, projects: Sequence[str]) -> list[str]:
        """Projects to run in order; refuses one whose prerequisite never completed."""
        done = (RunStatus.COMPLETED, RunStatus.WARNING)
        return plan_projects(
            self.workspace, projects, lambda p: self.history.last_run(p, done) is not None
        )

    def run(
        self, projects: Sequence[str] = (), *, all_data: bool = False, retry_failed: bool = False
    ) -> list[RunSummary]:
        """Validate, then run ``projects`` (all when empty), prerequisites first.

        ``retry_failed`` retries every failed record now, not only those whose backoff is over.
        A ``KeyboardInterrupt`` (SIGINT, or SIGTERM as the CLI turns it) records the run in
        progress Interrupted before it propagates. A run stopped by ``integrator cancel`` or
        the stop event ends the list: no further project starts (the summaries so far are
        returned).
        """
        self.validate(projects)
        order = self.plan(projects)
        mode: RunMode = "all-data" if all_data else "incremental"
        summaries: list[RunSummary] = []
        for name in order:
            if self.stop is not None and self.stop.is_set():
                break
            summary = self.run_project(name, mode, retry_failed=retry_failed)
            summaries.append(summary)
            if summary.end_reason in (EndReason.CANCELLED, EndReason.INTERRUPTED):
                break
        return summaries

    def prepare_rerun(self, run_id: int) -> dict[str, list[dict[str, Any]]]:
        """The source keys of ``run_id``'s failed records, per task, once the project is
        checked. Raises :class:`RunNotFound` when there is no such run,
        :class:`NothingToRerun` when it has no failed records, and what :meth:`validate`
        raises; nothing is written."""
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
        return keys

    def rerun(self, run_id: int, *, lock: ProjectLock | None = None) -> RunSummary:
        """Re-run execution: run ``run_id``'s failed records again, and only those (``lock``:
        the project's lock when the caller holds it).

        Raises :class:`RunNotFound` when there is no such run and :class:`NothingToRerun` (no
        run is added) when it has no failed records."""
        keys = self.prepare_rerun(run_id)
        previous = self.history.run(run_id)
        assert previous is not None
        return self.run_project(
            previous.project, "rerun", rerun_of=run_id, only_keys=keys, trigger="rerun", lock=lock
        )

    @fewer_collections()
    def run_project(
        self,
        name: str,
        mode: RunMode,
        *,
        rerun_of: int | None = None,
        only_keys: Mapping[str, list[dict[str, Any]]] | None = None,
        retry_failed: bool = False,
        trigger: Trigger = "manual",
        scheduled_for: str | None = None,
        lock: ProjectLock | None = None,
    ) -> RunSummary:
        """Run one project under its lock, task after task; returns the finished run.

        ``trigger`` and ``scheduled_for`` (the schedule slot, ISO-8601 UTC) go into the run
        record. ``lock`` is the project's lock when the caller already holds it (the
        scheduler, which takes it before it takes the slot); it stays the caller's to release.

        A task whose stage fails is Error, the tasks after it Not run, the run Error with the
        :class:`~integrator.errors.StageFailed` message. Interrupted, the task in progress and
        the run are recorded Interrupted, then the interrupt propagates. Asked to stop (the
        stop event, or ``integrator cancel``), the run stops after its current batch commits
        or before its next task: it and the task in progress are recorded Interrupted or
        Cancelled, the tasks not reached stay Not run, and the summary is returned.
        """
        project = self.workspace.project(name)
        held = lock
        if held is None:
            lock = ProjectLock(self.workspace.root / ".integrator" / "locks", name)
            lock.acquire(wait=self.lock_wait)
        control: RunControl | None = None
        try:
            history = self.history
            runlog = history.log
            runlog.mark_interrupted(name, INTERRUPTED_MESSAGE)
            last = runlog.runs(name, limit=1)
            last_message = last[0].message if last else None
            run_id = runlog.start_run(
                name,
                [t.name for t in project.tasks],
                mode=mode,
                rerun_of=rerun_of,
                trigger=trigger,
                scheduled_for=scheduled_for,
            )
            if self.on_run_start is not None:
                self.on_run_start(run_id)
            after = self.on_finish
            notes: list[str] = []
            control = RunControl(
                history,
                run_id,
                stop=self.stop,
                heartbeat_seconds=self.heartbeat_seconds,
                stopped_by=self.stopped_by,
            ).start()
            try:
                connection_set = self.workspace.connection_set(project.connection_set)
                systems = TaskSystems(
                    source=self.connectors.get(project.source_system),
                    destination=self.connectors.get(project.destination_system),
                    cds=self.connectors.get("cds") if connection_set.cds is not None else None,
                )
                describe = self.describe_role(project.source_system, project.destination_system)
                if project.source_system == "sales" and upgrade_check_due(
                    reads_everything=mode == "all-data"
                    or not reads_changes(systems.source)
                    or any(history.records.checkpoint(name, t.name) is None for t in project.tasks),
                    last_message=last_message,
                ):  # records the P2C upgrade has not set
                    read = [t.source_entity for t in project.tasks]
                    notes.extend(sales_upgrade_notes(systems.source, read, self.workspace.root))
                for position, task in enumerate(project.tasks):
                    control.check()
                    runlog.start_task(run_id, position)
                    compile_task = partial(
                        build_plan,
                        project=name,
                        task=task,
                        legs=task.legs(project.source_system, project.destination_system),
                        systems=systems,
                        describe=describe,
                        organization=connection_set.organization_mapping,
                    )
                    try:
                        plan = guarded("plan", task.name, run_id, compile_task)
                    except StageFailed:
                        if self.progress is not None:  # the display is told the task ended
                            self.progress(Progress(name, task.name, Counts(), None, True))
                        raise
                    runner = TaskRunner(
                        plan,
                        systems,
                        history,
                        run_id=run_id,
                        position=position,
                        progress=self.progress,
                        check=control.check,
                        partition_records=self.workspace.settings.partition_records,
                        partition_driver=self.partition_driver,
                    )
                    report = runner.run(
                        mode,
                        only_keys=None if only_keys is None else only_keys.get(task.name, []),
                        retry_failed=retry_failed,
                    )
                    notes.extend(report.notices)
                    runlog.finish_task(run_id, position)
                runlog.finish_run(run_id, message="; ".join(notes) or None, after=after)
            except RunStopped as stopped:
                log.info("run %s of %s stopped: %s", run_id, name, stopped)
                runlog.finish_run(
                    run_id,
                    stopped.status,
                    message=str(stopped),
                    end_reason=stopped.end_reason,
                    after=after,
                )
            except KeyboardInterrupt:
                runlog.finish_run(
                    run_id, RunStatus.INTERRUPTED, message=STOPPED_MESSAGE, after=after
                )
                raise KeyboardInterrupt(
                    f"interrupted: run {run_id} of {name} is recorded Interrupted; what it "
                    "committed stays, and the next run goes on from there"
                ) from None
            except HistoryFull as error:
                # nothing more can be recorded: end the command, not only this run
                raise self._history_full(runlog, run_id, name, error) from error
            except HistoryUnreachable as error:
                # the history went away (a PostgreSQL restart): what was committed stays, so
                # the run is Interrupted, to go on from there, not failed
                log.error("run %s of %s: the history could not be reached: %s", run_id, name, error)
                self._history_lost(runlog, run_id, error, after)
            except IntegratorError as error:
                log.error("run %s of %s failed: %s", run_id, name, error)
                runlog.finish_run(run_id, RunStatus.ERROR, message=str(error), after=after)
            except Exception as error:
                # a bug, not an expected failure: still never leave the run Running
                runlog.finish_run(
                    run_id,
                    RunStatus.ERROR,
                    message=f"internal error: {error!r}",
                    end_reason=EndReason.INTERNAL_ERROR,
                    after=after,
                )
                raise
            summary = history.run(run_id)
            assert summary is not None
            return summary
        finally:
            if control is not None:
                control.close()
            if held is None and lock is not None:
                lock.release()

    @staticmethod
    def _history_lost(
        runlog: RunLog, run_id: int, error: HistoryUnreachable, after: FinishHook | None
    ) -> None:
        """Record run ``run_id`` Interrupted by the lost history when it is back; raises
        ``error`` when not (the next run of the project then records it Interrupted)."""
        try:
            runlog.finish_run(
                run_id,
                RunStatus.INTERRUPTED,
                message=f"the history database at {error.url} could not be reached while the "
                f"run ran ({error.reason}); what it committed stays, the next run goes on from "
                "there",
                end_reason=EndReason.INTERRUPTED,
                after=after,
            )
        except HistoryError:
            raise error from None

    @staticmethod
    def _history_full(runlog: RunLog, run_id: int, name: str, error: HistoryFull) -> HistoryFull:
        """Record run ``run_id`` Error when the full history still takes that one update;
        otherwise it stays Running until the next run of ``name`` (which holds the lock, so
        knows no such run is alive) records it Interrupted. Returns the error to end with."""
        try:
            runlog.finish_run(
                run_id, RunStatus.ERROR, message=str(error), end_reason=EndReason.HISTORY_FULL
            )
        except HistoryError:
            return error.outcome(
                f"run {run_id} of {name} could not be recorded as ended; the next run of it "
                "records it Interrupted"
            )
        return error.outcome(f"run {run_id} of {name} is recorded Error")

    def describe_role(self, source: str, destination: str) -> Callable[[str, str], EntityInfo]:
        """``describe`` by role (``source``, ``cds``, ``destination``) for a project between
        ``source`` and ``destination``; raises :class:`ConfigError` for an unknown entity."""
        systems = {"source": source, "cds": "cds", "destination": destination}

        def describe(role: str, entity: str) -> EntityInfo:
            info = self.describe(systems[role], entity)
            if info is None:
                raise ConfigError(f"{systems[role]} has no entity {entity!r}")
            return info

        return describe
