"""The scheduler of ``integrator serve``: each tick turns the workspace's due schedule slots
into runs, each in a thread of its own, never two of one project at once.

A tick, about once a second:

1. reload the workspace when its files changed (a schedule edited in a file takes effect);
2. record Interrupted the runs whose process died (no heartbeat, lock free);
3. bring the ``schedules`` rows in line with the project files and claim the due slots
   (:class:`~integrator.schedule.book.ScheduleBook`: a claimed slot *waits*, at most one per
   project; the database decides which process claims it);
4. start the waiting slots of projects that run nowhere and whose prerequisites neither run
   nor wait here: the slot is taken from the database first, so two ``serve`` processes never
   start one slot twice.

A run that cannot start (the project has problems, a system is down, a prerequisite never
completed) is recorded Error for its slot, so it is seen and notified like any failed run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from integrator.config.workspace import Workspace
from integrator.engine.connections import history_url
from integrator.engine.history import EndReason, HistoryStore, RunStatus, RunSummary
from integrator.engine.liveness import recognise_dead_runs
from integrator.engine.lock import ProjectLock
from integrator.engine.run import Engine
from integrator.errors import ConfigError, IntegratorError, ProjectBusy, SystemUnavailable
from integrator.schedule.book import ScheduleBook, ScheduleRow
from integrator.serve.watch import WorkspaceWatch

__all__ = ["Scheduler", "SlotRun"]

log = logging.getLogger(__name__)


@dataclass
class SlotRun:
    """A run this process started for a schedule slot."""

    project: str
    slot: str
    thread: threading.Thread
    run_id: int | None = None


class Scheduler:
    """Runs the schedules of the workspace at ``root`` until ``stop`` is set.

    ``say`` receives one line per event a person serving wants to see (a run started or
    ended, a slot skipped); ``clock`` gives the current time (aware, UTC).
    """

    def __init__(
        self,
        root: Path,
        *,
        stop: threading.Event,
        tick_seconds: float = 1.0,
        say: Callable[[str], None] = lambda line: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_run_end: Callable[[], None] = lambda: None,
    ) -> None:
        self.watch = WorkspaceWatch(root)
        self.stop = stop
        self.tick_seconds = tick_seconds
        self.say = say
        self.clock = clock
        self.on_run_end = on_run_end
        self.history = HistoryStore.open(history_url(self.workspace))
        self.book = ScheduleBook(self.history.engine)
        self.active: dict[str, SlotRun] = {}
        #: the schedules as the last tick left them (for the status page)
        self.schedules: list[ScheduleRow] = []
        self._lock = threading.Lock()

    @property
    def workspace(self) -> Workspace:
        """The workspace as last loaded."""
        return self.watch.workspace

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        """Tick until ``stop`` is set, then wait for the runs in progress to record their end
        (each stops after its current batch and is recorded Interrupted)."""
        try:
            while not self.stop.is_set():
                try:
                    self.tick()
                except (IntegratorError, sa.exc.SQLAlchemyError) as error:
                    # the history database briefly unreachable or locked: try again next tick
                    # (anything else is a bug: it ends the thread, and serve with exit 1)
                    log.error("schedule tick failed: %s", error)
                    self.say(f"schedules: the tick failed, trying again: {error}")
                self.stop.wait(self.tick_seconds)
        finally:
            self.join()

    def tick(self) -> None:
        """One pass: reload, recognise dead runs, claim due slots, start what may start."""
        workspace = self.watch.current()
        now = self.clock()
        for run_id in recognise_dead_runs(self.history, workspace, now):
            self.say(f"run {run_id} had stopped without recording an end: recorded Interrupted")
        self.book.sync(workspace, now)
        self.book.claim_due(now)
        self.schedules = self.book.rows()
        waiting = self.book.waiting()
        self._forget_finished()
        for project in _plan_order(workspace, waiting):
            if self.stop.is_set():
                return
            if self._may_start(workspace, project, waiting):
                self._start(project, waiting[project])

    def join(self) -> None:
        """Wait for every run this process started."""
        for item in list(self.active.values()):
            item.thread.join()
        self._forget_finished()

    def close(self) -> None:
        """Release the history database (after :meth:`join`)."""
        self.history.close()

    def running(self) -> list[SlotRun]:
        """The runs this process has in progress."""
        with self._lock:
            return [r for r in self.active.values() if r.thread.is_alive()]

    # -- starting a slot -----------------------------------------------------------------------

    def _forget_finished(self) -> None:
        with self._lock:
            for name in [n for n, r in self.active.items() if not r.thread.is_alive()]:
                del self.active[name]

    def _may_start(self, workspace: Workspace, project: str, waiting: dict[str, str]) -> bool:
        """Whether ``project``'s waiting slot may start now: it runs nowhere, and none of its
        prerequisites waits or runs (here, or in another process: its lock is held)."""
        if project in self.active or project not in workspace.project_files:
            return False
        try:
            priors = workspace.with_prerequisites([project])[1:]
        except ConfigError:
            priors = []
        for prior in priors:
            if prior in self.active or prior in waiting or _held(workspace, prior):
                return False  # the prerequisite's run goes first
        return True

    def _start(self, project: str, slot: str) -> None:
        """Start ``slot``'s run of ``project`` in a thread of its own, holding the project's
        lock from before the slot is taken until the run is recorded: another process never
        sees the project as neither waiting nor running in between. In distributed mode the
        slot, once taken, is a job on the queue instead (its queue lock is the lock)."""
        if self.workspace.settings.distributed:
            self._enqueue_slot(project, slot)
            return
        lock = ProjectLock(self.workspace.root / ".integrator" / "locks", project)
        try:
            lock.acquire(wait=0)
        except ProjectBusy:
            return  # running elsewhere: the slot waits for it
        if not self.book.take_waiting(project, slot):
            lock.release()  # another process took this slot
            return
        thread = threading.Thread(
            target=self._run_slot,
            args=(project, slot, lock),
            name=f"run {project}",
            daemon=True,
        )
        with self._lock:
            self.active[project] = SlotRun(project, slot, thread)
        thread.start()

    def _enqueue_slot(self, project: str, slot: str) -> None:
        """Take ``slot`` and enqueue its run for ``integrator worker`` (distributed mode)."""
        from integrator.distributed.queue import JobQueue

        if not self.book.take_waiting(project, slot):
            return  # another process took this slot
        with JobQueue(self.workspace) as queue:
            enqueued = queue.defer_chain(
                [project], trigger="schedule", scheduled_for=slot, request=f"schedule:{slot}"
            )
        self.say(f"{_shown(slot)}: enqueued {enqueued.describe()}")

    def _run_slot(self, project: str, slot: str, lock: ProjectLock) -> None:
        workspace = self.workspace
        engine = Engine(workspace, stop=self.stop)
        try:
            self.say(f"{project}: the run scheduled for {_shown(slot)} starts")
            try:
                engine.validate([project])
                engine.plan([project])  # refuses when a prerequisite never completed
                summary = engine.run_project(
                    project, "incremental", trigger="schedule", scheduled_for=slot, lock=lock
                )
            except (ConfigError, SystemUnavailable) as error:
                summary = self._record_not_started(engine, project, slot, error)
            except sa.exc.IntegrityError:
                # another process recorded a run for this slot first
                self.say(f"{project}: the slot {_shown(slot)} already has its run")
                return
            said = f": {summary.message}" if summary.message else ""
            self.say(f"{project}: run {summary.id} ended {summary.status}{_counts(summary)}{said}")
        except Exception:  # a bug: keep serving the other projects
            log.exception("the scheduled run of %s for %s failed", project, slot)
        finally:
            lock.release()
            engine.close()
            self.on_run_end()

    def _record_not_started(
        self, engine: Engine, project: str, slot: str, error: IntegratorError
    ) -> RunSummary:
        """Record the slot's run Error with what kept it from starting (and notify)."""
        runlog = engine.history.log
        loaded = engine.workspace.projects.get(project)
        tasks = [t.name for t in loaded.tasks] if loaded is not None else []
        run_id = runlog.start_run(
            project, tasks, mode="incremental", trigger="schedule", scheduled_for=slot
        )
        runlog.finish_run(
            run_id,
            RunStatus.ERROR,
            message=f"the scheduled run could not start: {error}",
            end_reason=EndReason.NOT_STARTED,
            after=engine.on_finish,
        )
        summary = engine.history.run(run_id)
        assert summary is not None
        return summary


def _held(workspace: Workspace, project: str) -> bool:
    """Whether another process (or thread) holds ``project``'s run lock."""
    probe = ProjectLock(workspace.root / ".integrator" / "locks", project)
    try:
        probe.acquire(wait=0)
    except ProjectBusy:
        return True
    probe.release()
    return False


def _plan_order(workspace: Workspace, waiting: dict[str, str]) -> list[str]:
    """The waiting projects, each after the prerequisites it has among them, then by slot."""
    order: list[str] = []

    def visit(name: str, trail: frozenset[str]) -> None:
        if name in order or name in trail:
            return
        try:
            priors = workspace.with_prerequisites([name])[1:]
        except ConfigError:
            priors = []
        for prior in priors:
            if prior in waiting:
                visit(prior, trail | {name})
        order.append(name)

    for name in sorted(waiting, key=lambda n: (waiting[n], n)):
        visit(name, frozenset())
    return order


def _shown(slot: str) -> str:
    return slot.replace("T", " ").removesuffix(".000Z").removesuffix("Z") + " UTC"


def _counts(summary: RunSummary) -> str:
    counts = summary.counts
    return (
        f" (read {counts.read}, inserted {counts.inserted}, updated {counts.updated}, "
        f"unchanged {counts.unchanged}, errors {counts.errors})"
    )
