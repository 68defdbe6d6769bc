"""A whole task without a sandbox: in-memory systems speaking the connector protocol, a SQLite
history in tmp_path. Failed records wait as SPEC §7 says; a stage that fails is StageFailed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from integrator.config.models import OrganizationMapping
from integrator.engine import read
from integrator.engine.history import HistoryStore, RunStatus, RunSummary
from integrator.engine.pages import SourcePage
from integrator.engine.read import RunMode
from integrator.engine.task import Progress, TaskRunner
from integrator.engine.taskplan import TaskPlan, TaskSystems, build_plan
from integrator.errors import RequestRejected, RetriableError, StageFailed
from integrator.mapping.rows import MappingRow
from integrator.templates.model import Task, TaskKeys
from tests.engine.memory import MemorySystem, entity

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
INFLUENCER = "DecisionMakingRoleCode 'Influencer' does not exist in company USMF"


def _task(*, with_role: bool = True) -> Task:
    rows = [
        MappingRow(destination="Number", source="number"),
        MappingRow(destination="Name", source="name"),
    ]
    if with_role:
        rows.append(MappingRow(destination="Role", source="role"))
    return Task(
        name="People",
        source_entity="people",
        destination_entity="persons",
        keys=TaskKeys(source=("number",), destination=("Number",)),
        source_to_destination=tuple(rows),
    )


class World:
    """Two in-memory systems, one task between them, and its history."""

    def __init__(self, history: HistoryStore) -> None:
        self.source = MemorySystem(
            entity("people", ["id"], id="string", number="string", name="string", role="string")
        )
        self.destination = MemorySystem(
            entity("persons", ["Number"], Number="string", Name="string", Role="string"),
            change_tracking=False,
        )
        self.destination.rules.append(
            lambda r: INFLUENCER if r.get("Role") == "Influencer" else None
        )
        self.systems = TaskSystems(source=self.source, destination=self.destination)
        self.history = history
        self.task = _task()
        self.events: list[Progress] = []
        self.notices: list[str] = []

    def plan(self) -> TaskPlan:
        return build_plan(
            project="People",
            task=self.task,
            legs=self.task.legs("sales", "finops"),
            systems=self.systems,
            describe=lambda role, name: self.systems.for_role(role).describe(name),
            organization=OrganizationMapping(),
        )

    def run(
        self, at: timedelta = timedelta(0), mode: RunMode = "incremental", **options: Any
    ) -> RunSummary:
        log = self.history.log
        run_id = log.start_run("People", ["People"], mode=mode)
        log.start_task(run_id, 0)
        runner = TaskRunner(
            self.plan(),
            self.systems,
            self.history,
            run_id=run_id,
            position=0,
            progress=self.events.append,
            clock=lambda: START + at,
        )
        try:
            report = runner.run(mode, **options)
        except StageFailed as error:
            log.finish_run(run_id, RunStatus.ERROR, str(error))
            raise
        self.notices = report.notices
        log.finish_task(run_id, 0)
        log.finish_run(run_id, message="; ".join(report.notices) or None)
        summary = self.history.run(run_id)
        assert summary is not None
        return summary


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    history = HistoryStore.open(f"sqlite:///{tmp_path / 'history.db'}")
    world = World(history)
    world.source.put("people", id="1", number="CON-1", name="Ann", role="Decision maker")
    world.source.put("people", id="2", number="CON-2", name="Bob", role="Influencer")
    world.source.put("people", id="3", number="CON-3", name="Cid", role="Economic buyer")
    yield world
    history.close()


def _counts(run: RunSummary) -> dict[str, int]:
    return run.tasks[0].counts.as_dict()


def test_a_whole_task_runs_without_a_sandbox(world: World) -> None:
    run = world.run()
    assert run.status == RunStatus.WARNING
    assert _counts(run) == {"read": 3, "inserted": 2, "updated": 0, "unchanged": 0, "errors": 1}
    assert [r["Number"] for r in world.destination.records("persons")] == ["CON-1", "CON-3"]
    [error] = run.tasks[0].errors
    assert (error.key, error.message, error.still_failing) == ("CON-2", INFLUENCER, False)
    # progress after every page, then exactly once finished
    assert [e.finished for e in world.events].count(True) == 1 and world.events[-1].finished
    assert world.events[-1].counts.read == 3 and world.events[-1].total is None


def test_a_data_failure_waits_for_its_backoff_and_then_is_still_failing(world: World) -> None:
    first = world.run()
    writes = world.destination.writes
    quiet = world.run(timedelta(minutes=5))
    assert quiet.status == RunStatus.COMPLETED
    assert _counts(quiet)["read"] == 0 and world.destination.writes == writes
    assert quiet.message is not None
    assert f"1 record(s) still wait for a fix (failing since run {first.id})" in quiet.message
    assert "--retry-failed" in quiet.message
    retried = world.run(timedelta(hours=1, minutes=1))  # the backoff is over: tried again
    assert _counts(retried)["read"] == 1 and _counts(retried)["errors"] == 1
    assert retried.status == RunStatus.WARNING  # failing the same way: not a new error
    assert retried.tasks[0].errors[0].still_failing
    # the next wait is longer (two hours): an hour later it is not tried
    assert _counts(world.run(timedelta(hours=2, minutes=1)))["read"] == 0
    assert _counts(world.run(timedelta(hours=3, minutes=2)))["read"] == 1


def test_a_fix_in_the_destination_is_picked_up_by_the_backed_off_retry(world: World) -> None:
    world.run()
    world.destination.rules.clear()  # the missing Influencer role was added
    fixed = world.run(timedelta(hours=2))
    assert fixed.status == RunStatus.COMPLETED and _counts(fixed)["inserted"] == 1
    assert fixed.message is None
    assert world.history.records.pending_states("People", "People") == []


def test_a_source_change_retries_a_data_failure_at_once(world: World) -> None:
    world.run()
    world.source.put("people", id="2", role="Decision maker")
    changed = world.run(timedelta(minutes=1))
    assert _counts(changed) == {"read": 1, "inserted": 1, "updated": 0, "unchanged": 0, "errors": 0}


def test_retry_failed_retries_data_failures_now(world: World) -> None:
    world.run()
    now = world.run(timedelta(minutes=1), retry_failed=True)
    assert _counts(now)["read"] == 1 and now.status == RunStatus.WARNING


def test_a_transient_failure_is_retried_by_every_run(world: World) -> None:
    world.destination.unavailable = True
    down = world.run()
    assert down.status == RunStatus.ERROR and _counts(down)["errors"] == 3
    assert all(e.transient for e in down.tasks[0].errors)
    world.destination.unavailable = False
    back = world.run(timedelta(minutes=1))
    assert _counts(back)["read"] == 3 and _counts(back)["inserted"] == 2
    # Bob now fails on his data: a new failure, not the same one
    assert back.tasks[0].errors[0].message == INFLUENCER
    assert not back.tasks[0].errors[0].still_failing


def test_a_mapping_change_retries_failures_and_names_all_data(world: World) -> None:
    world.run()
    world.task = _task(with_role=False)  # the Role row removed from the mapping
    changed = world.run(timedelta(minutes=1))
    assert _counts(changed)["inserted"] == 1  # Bob, retried at once under the new mapping
    assert changed.message is not None and "mapping changed since run" in changed.message
    assert "--all-data" in changed.message
    again = world.run(timedelta(minutes=2))  # still not re-sent: still said
    assert again.message is not None and "--all-data" in again.message
    full = world.run(timedelta(minutes=3), mode="all-data")
    # all data: the two records written under the old mapping are re-sent under the new one
    assert full.message is None and _counts(full)["updated"] == 2
    assert world.run(timedelta(minutes=4)).message is None


def test_a_record_deleted_in_the_source_leaves_the_destination(world: World) -> None:
    world.run()
    world.source.remove("people", id="1")
    gone = world.run(timedelta(minutes=1))
    assert [r["Number"] for r in world.destination.records("persons")] == ["CON-3"]
    assert gone.status == RunStatus.COMPLETED
    assert world.history.records.states("People", "People", ['["1"]']) == {}


@pytest.mark.parametrize(
    ("system", "error", "stage"),
    [
        ("source", RetriableError("GET people: 503", status=503), "read"),
        ("destination", RequestRejected("POST persons: 403", status=403), "write"),
    ],
)
def test_a_stage_that_fails_is_raised_once_naming_stage_task_and_run(
    world: World, system: str, error: Exception, stage: str
) -> None:
    getattr(world, system).broken = error
    with pytest.raises(StageFailed) as caught:
        world.run()
    failed = caught.value
    assert (failed.stage, failed.task, failed.cause) == (stage, "People", error)
    run = world.history.runs()[0]
    assert str(failed) == f"run {run.id}, task People: stage {stage} failed: {error}"
    assert run.status == RunStatus.ERROR and run.tasks[0].status == RunStatus.ERROR
    assert world.events[-1].finished  # the progress display is told the task ended


def test_pages_are_cut_at_exactly_a_pageful_of_selected_records(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every write request goes out full: 3 selected records per page here, source pages of 4
    # records of which the filter keeps every other one
    monkeypatch.setattr(read, "SELECTED_PER_PAGE", 3)
    world.task = world.task.model_copy(update={"source_filter": "role eq 'Keep'"})
    plan = world.plan()
    source = [
        SourcePage(
            [{"number": f"CON-{p}{i}", "role": "Keep" if i % 2 else "Drop"} for i in range(4)],
            deleted=[f"gone-{p}"],
            checkpoint=f"after-{p}",
        )
        for p in range(3)
    ]

    pages = list(read.gathered(plan, iter(source)))

    selected = [sum(page.selection or []) for page in pages]
    assert selected == [3, 3]
    assert [len(page.records) for page in pages] == [6, 6]
    # a source page cut in two gives its checkpoint and deletions to the part with its end
    assert [page.checkpoint for page in pages] == ["after-0", "after-2"]
    assert [page.deleted for page in pages] == [["gone-0"], ["gone-1", "gone-2"]]
