"""The live progress of ``integrator run``: records read of the total, the rate, and each
task's line frozen when the task ends (on a clock the test moves)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from rich.console import Console

from integrator.cli.progress import RunProgress
from integrator.engine.history import Counts


@dataclass(frozen=True)
class Event:
    """The engine's ``Progress`` with the fields the stages add (``total``, ``finished``)."""

    project: str
    task: str
    counts: Counts
    total: int | None = None
    finished: bool = False


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def display(clock: Clock) -> RunProgress:
    return RunProgress(Console(file=io.StringIO()), get_time=clock)


def line_of(snapshot: str, task: str) -> str:
    return next(line for line in snapshot.splitlines() if line.startswith(f"{task} ("))


def test_a_task_shows_records_read_of_its_total_and_the_rate() -> None:
    clock = Clock()
    progress = display(clock)
    progress.update(Event("Accounts (Sales to Fin and Ops)", "Accounts", Counts(read=0), 4000))
    clock.now += 2
    counts = Counts(read=1000, inserted=990, errors=10)
    progress.update(Event("Accounts (Sales to Fin and Ops)", "Accounts", counts, 4000))
    line = line_of(progress.snapshot(), "Accounts")
    assert line.startswith("Accounts (Accounts (Sales to Fin and Ops)) ")
    assert "1,000/4,000 read" in line and "500 rec/s" in line
    assert "10 errors" in line and line.endswith("0:00:02")


def test_on_a_narrow_terminal_the_project_name_is_cut_not_the_numbers() -> None:
    clock = Clock()
    progress = display(clock)
    counts = Counts(read=1200, inserted=1199, errors=1)
    progress.update(Event("Contacts to Contact (Sales to Fin and Ops)", "Contacts", counts, 5000))
    clock.now += 1
    progress.update(Event("Contacts to Contact (Sales to Fin and Ops)", "Contacts", counts, 5000))
    line = progress.snapshot(width=80).splitlines()[0]
    assert line.startswith("Contacts (Contacts to") and "…" in line
    assert "1,200/5,000 read" in line and "1,200 rec/s" in line and "1 error" in line
    assert line.endswith("0:00:01")


def test_a_finished_task_stops_counting_while_the_next_one_runs() -> None:
    clock = Clock()
    progress = display(clock)
    progress.update(Event("P", "Accounts", Counts(read=0), total=300))
    clock.now += 3
    progress.update(Event("P", "Accounts", Counts(read=300, inserted=300), 300, finished=True))
    clock.now += 60
    progress.update(Event("P", "Contacts", Counts(read=50, inserted=50)))
    clock.now += 60
    snapshot = progress.snapshot()
    accounts = line_of(snapshot, "Accounts")
    assert accounts.endswith("0:00:03"), accounts
    assert "300/300 read" in accounts and "100 rec/s" in accounts
    contacts = line_of(snapshot, "Contacts")
    assert "50 read" in contacts and contacts.endswith("0:01:00"), contacts


def test_without_a_finished_event_a_task_stops_when_the_next_starts() -> None:
    clock = Clock()
    progress = display(clock)
    progress.update(Event("P", "Accounts", Counts(read=10)))
    clock.now += 5
    progress.update(Event("P", "Accounts", Counts(read=20)))
    progress.update(Event("P", "Contacts", Counts(read=1)))
    clock.now += 100
    assert line_of(progress.snapshot(), "Accounts").endswith("0:00:05")
