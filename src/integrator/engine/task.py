"""Run one task of a project run: the stages in order, page by page, and the history.

Per page: read (:mod:`integrator.engine.read`) → map → write ahead the keys about to be
written → write (:mod:`integrator.engine.write`) → reconcile (:mod:`integrator.engine.reconcile`,
pure) → remove stale rows → commit the page's counts, failed records, states and checkpoint in
one transaction. The runner is the only part of a task that touches the history.

Each source record's *state* remembers the keys it may have rows under in each leg. When a
record moves (its company changes, so its F&O contact person key changes), leaves the task's
selection (a contact becomes an active customer) or is deleted in the source, the rows it had
written and no longer maps to are removed, so the systems end as a fresh full sync of the
source would leave them. Only rows this task wrote itself are ever removed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from integrator.engine.history import Counts, HistoryStore, MappingMark, PageCommit
from integrator.engine.pages import SourcePage
from integrator.engine.partition_driver import PartitionDriver, run_in_process
from integrator.engine.partitions import Partition, plan_partitions, range_pages
from integrator.engine.read import RunMode, gathered, read_ids, read_source, reads_changes
from integrator.engine.reconcile import TaskShape, reconcile, settle_removals, written_ahead
from integrator.engine.retry import due_at
from integrator.engine.seen import SeenIds
from integrator.engine.taskplan import TaskPlan, TaskSystems
from integrator.engine.write import map_page, remove_stale, write_page
from integrator.errors import IntegratorError, StageFailed

__all__ = ["Progress", "ProgressSink", "TaskReport", "TaskRunner", "guarded"]

log = logging.getLogger(__name__)

#: records no longer in the source removed per committed batch after a full read
_GONE_PER_BATCH = 1000

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """What a progress display is told after each committed page of a task, and once more
    (``finished=True``) when the task ends, also when it fails.

    ``total`` is the number of records the task will read when it is known without asking the
    source for a count (a Re-run's failed records), else ``None``.
    """

    project: str
    task: str
    counts: Counts
    total: int | None
    finished: bool


ProgressSink = Callable[[Progress], None]


@dataclass
class TaskReport:
    """What a task's run says beyond its counts: notices for the run's message."""

    notices: list[str] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)


def guarded(stage: str, task: str, run_id: int, call: Callable[[], T]) -> T:
    """``call()``, its :class:`IntegratorError` raised once as :class:`StageFailed` naming the
    stage, the task and the run."""
    try:
        return call()
    except StageFailed:
        raise
    except IntegratorError as error:
        raise StageFailed(stage, run_id, error, task=task) from error


class TaskRunner:
    """Runs one task of a project run: the plan is built, the runner feeds it pages."""

    def __init__(
        self,
        plan: TaskPlan,
        systems: TaskSystems,
        history: HistoryStore,
        *,
        run_id: int,
        position: int,
        progress: ProgressSink | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        check: Callable[[], None] | None = None,
        partition_records: int | None = None,
        partition_driver: PartitionDriver = run_in_process,
    ) -> None:
        """``check`` is called after each committed page; what it raises (the engine's
        :class:`~integrator.engine.control.RunStopped`) ends the task there. A full read of a
        source holding more than ``partition_records`` records is cut into key ranges of
        about that many (``None``: never cut), which ``partition_driver`` runs (default: one
        after another in this process)."""
        self.plan = plan
        self.systems = systems
        self.history = history
        self.run_id = run_id
        self.position = position
        self.progress = progress
        self.clock = clock
        self.check = check
        self.shape = TaskShape(plan.name, tuple(leg.leg.title for leg in plan.legs), plan.codec)
        self.partition_records = partition_records
        self.partition_driver = partition_driver
        self._total: int | None = None
        self._report = TaskReport()
        #: the partition whose pages are being committed (their checkpoint is its resume point)
        self._partition: int | None = None
        #: whether its pages mark the ids they saw (a full read's plan: the unmarked are gone)
        self._marks_seen = False

    def run(
        self,
        mode: RunMode,
        *,
        only_keys: Sequence[dict[str, Any]] | None = None,
        retry_failed: bool = False,
    ) -> TaskReport:
        """Run the task: with ``only_keys``, only those source records (Re-run); else what the
        read brings, the records gone since a full read, and the failed records that are due
        (every one with ``retry_failed`` or after a mapping change). Raises
        :class:`StageFailed` when a stage fails as a whole; what was committed stays."""
        try:
            if only_keys is not None:
                self._total = len(only_keys)
                self._retry([self.plan.codec.source_id(key) for key in only_keys])
            else:
                partitions = self.plan_partitions(mode)
                if partitions:
                    self.partition_driver(self, [p for p in partitions if not p.done])
                    self.finish_partitions(mode, retry_failed=retry_failed)
                else:
                    self._run(mode, retry_failed=retry_failed)
        finally:
            self._emit(finished=True)
        return self._report

    # -- a partitioned full read ---------------------------------------------------------------

    def plan_partitions(self, mode: RunMode) -> list[Partition]:
        """The ranges this run's read of the task is cut into: an unfinished plan's, or a new
        one for a full read of a source bigger than ``partition_records``, or for a read of
        more changes than that; ``[]`` when the read runs as one. Raises
        :class:`StageFailed` (stage ``read``) when the source fails."""
        plan, source = self.plan, self.systems.source
        checkpoint = self.history.records.checkpoint(plan.project, plan.name)
        full = not reads_changes(source) or mode == "all-data" or checkpoint is None
        return guarded(
            "read",
            plan.name,
            self.run_id,
            lambda: plan_partitions(
                plan,
                source,
                self.history,
                run_id=self.run_id,
                checkpoint=checkpoint,
                full=full,
                partition_records=self.partition_records,
            ),
        )

    def run_partition(self, partition: Partition) -> int:
        """Read, map and write one partition's records from its committed resume point, each
        page committed with the source ids it saw, then record the partition done (nothing
        happens for a partition already done). The records gone from the source are removed
        by :meth:`finish_partitions`, once every partition is done. Counts go into the task's
        row of the run; returns how many of the task's partitions are not done yet."""
        plan = self.plan
        current = self.history.partitions.partition(plan.project, plan.name, partition.number)
        if current is None or current.done:
            return self.history.partitions.left(plan.project, plan.name)
        self._partition = current.number
        self._marks_seen = not current.reads_changes
        try:
            pages = range_pages(plan, self.systems.source, current)
            for page in gathered(plan, self._read("read", pages)):
                self._process(page)
        finally:
            self._partition = None
        return self.history.partitions.mark_done(
            plan.project, plan.name, current.number, self.run_id
        )

    def finish_partitions(self, mode: RunMode, *, retry_failed: bool) -> TaskReport:
        """Once every partition is done: remove the rows of the task's records no page of a
        full read's plan saw (gone from the source, or out of the task's selection), store the
        change checkpoint taken before the load as the task's, drop the plan and its seen
        marks, retry the failed records that are due and this run did not try, and store the
        mapping's fingerprint (as a full read's after a full read). Nothing happens while a
        partition is not done (the worker that finishes the last one closes the task). A run
        stopped during the removals leaves the plan and its marks: the next run's call removes
        what is left."""
        plan, records, partitions = self.plan, self.history.records, self.history.partitions
        project, task = plan.project, plan.name
        if partitions.left(project, task):
            return self._report
        mark = records.mapping_mark(project, task)
        mapping_changed = mark is not None and mark.fingerprint != plan.fingerprint
        # without a plan (an earlier call finished it) there are no marks to tell gone from seen
        ranges = partitions.plan(project, task)
        full = not (ranges and ranges[0].reads_changes)
        if ranges and full:
            for gone in partitions.unseen_state_pages(project, task, _GONE_PER_BATCH):
                self._process(SourcePage([], gone))
        partitions.finish(project, task, self.run_id)
        if mode == "incremental":
            now = self.clock()
            cutoff = due_at(now, mapping_changed=mapping_changed, retry_failed=retry_failed)
            due = records.pending_ids(project, task, cutoff)
            states = records.states(project, task, due)
            untried = [
                source_id
                for source_id in due
                if (state := states.get(source_id)) is None
                or state.failure is None
                or state.failure.last_run != self.run_id
            ]
            if untried:
                self._retry(untried)
        self._remember_mapping(mark, full)
        self._waiting_notice()
        return self._report

    # -- the task ------------------------------------------------------------------------------

    def _run(self, mode: RunMode, *, retry_failed: bool) -> None:
        plan, records = self.plan, self.history.records
        project, task = plan.project, plan.name
        now = self.clock()
        checkpoint = records.checkpoint(project, task)
        full = not reads_changes(self.systems.source) or mode == "all-data" or checkpoint is None
        mark = records.mapping_mark(project, task)
        mapping_changed = mark is not None and mark.fingerprint != plan.fingerprint
        cutoff = due_at(now, mapping_changed=mapping_changed, retry_failed=retry_failed)
        pending = records.pending_ids(project, task, cutoff) if mode == "incremental" else []
        with SeenIds() as seen:
            pages = read_source(plan, self.systems.source, mode, checkpoint)
            for page in gathered(plan, self._read("read", pages)):
                if page.notice is not None:
                    self._report.notices.append(page.notice)
                full = full or page.full_read
                seen.add(self._process(page))
            if full:
                # a full read reports no deletions: the records it did not see are gone (or
                # left the selection), and their rows must go too, as after a fresh full sync
                gone: list[str] = []
                for known in records.state_id_pages(project, task):
                    gone.extend(seen.unseen(known))
                seen.add(gone)
                for start in range(0, len(gone), _GONE_PER_BATCH):
                    self._process(SourcePage([], gone[start : start + _GONE_PER_BATCH]))
            pending = seen.unseen(sorted(pending))
        if pending:
            self._retry(pending)
        self._remember_mapping(mark, full)
        self._waiting_notice()

    def _waiting_notice(self) -> None:
        project, task = self.plan.project, self.plan.name
        waiting = self.history.records.waiting(project, task, self.run_id)
        if waiting.records:
            due_text = (
                f"next retry after {waiting.next_retry_at}, " if waiting.next_retry_at else ""
            )
            self._report.notices.append(
                f"task {task}: {waiting.records} record(s) still wait for a fix (failing since "
                f"run {waiting.since_run}); {due_text}or now with integrator run --retry-failed"
            )

    def _remember_mapping(self, mark: MappingMark | None, full: bool) -> None:
        """Store the mapping's fingerprint; say when records written under an older mapping
        are not re-sent because the read was incremental."""
        plan = self.plan
        if mark is None or full:
            new = MappingMark(plan.fingerprint, self.run_id, plan.fingerprint, self.run_id)
        else:
            new = MappingMark(
                plan.fingerprint, self.run_id, mark.full_read_fingerprint, mark.full_read_run_id
            )
            if mark.full_read_fingerprint != plan.fingerprint:
                since = mark.full_read_run_id
                self._report.notices.append(
                    f"task {plan.name}: the mapping changed since run {since}; an incremental "
                    "run re-sends only the records that changed in the source, so records "
                    "written under the old mapping keep what it wrote: run with --all-data to "
                    "re-send them"
                )
        self.history.records.put_mapping_mark(plan.project, plan.name, new)

    def _retry(self, source_ids: Sequence[str]) -> None:
        pages = read_ids(self.plan, self.systems.source, source_ids)
        for page in self._read("read", pages):
            self._process(page)

    def _read(self, stage: str, pages: Iterator[SourcePage]) -> Iterator[SourcePage]:
        try:
            yield from pages
        except StageFailed:
            raise
        except IntegratorError as error:
            raise StageFailed(stage, self.run_id, error, task=self.plan.name) from error

    # -- one page ------------------------------------------------------------------------------

    def _process(self, page: SourcePage) -> list[str]:
        """Push one page through every leg, remove the rows records no longer map to, and
        commit what the page did.

        Before anything is written, the keys each record is about to be written under are
        added to its state and saved (when new), so a run killed between the writes and the
        page's commit leaves no row that no state knows about. Returns the source ids the
        page saw (read, or reported deleted).
        """
        plan, records = self.plan, self.history.records
        project, task, run_id = plan.project, plan.name, self.run_id
        mapped = guarded("map", task, run_id, lambda: map_page(plan, page))
        prior = records.states(project, task, [*mapped.ids, *mapped.left, *mapped.deleted])
        keys, ahead = written_ahead(prior, mapped, self.shape.legs)
        if ahead:
            records.save_states(project, task, ahead)
        results = guarded("write", task, run_id, lambda: write_page(plan, mapped))
        now = self.clock()
        result = reconcile(
            self.shape,
            prior,
            mapped,
            results.written,
            results.outcomes,
            results.problems,
            run_id=run_id,
            now=now,
            keys=keys,
        )
        stale = result.reconciliation.stale
        answers = (
            guarded("remove", task, run_id, lambda: remove_stale(plan, stale)) if stale else []
        )
        result = settle_removals(self.shape, result, answers, run_id=run_id, now=now)
        if result.removed:
            log.info("%s / %s: removed %d stale rows", project, task, result.removed)
        seen = [*mapped.ids, *mapped.left, *mapped.deleted]
        self.history.record_batch(
            PageCommit(
                run_id=run_id,
                position=self.position,
                project=project,
                task=task,
                counts=result.counts,
                errors=result.errors,
                states=result.states,
                forget=result.forget,
                checkpoint=page.checkpoint,
                truncations=result.truncations,
                partition=self._partition,
                seen=seen if self._marks_seen else [],
            )
        )
        self._report.counts.add(result.counts)
        self._emit(finished=False)
        if self.check is not None:  # only now: the page is committed, so it is kept
            self.check()
        return seen

    def _emit(self, *, finished: bool) -> None:
        if self.progress is not None:
            counts = Counts()
            counts.add(self._report.counts)
            self.progress(
                Progress(self.plan.project, self.plan.name, counts, self._total, finished)
            )
