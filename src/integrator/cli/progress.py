"""The live display of a run on a terminal: one line per task with a bar, records read (of the
total when the engine knows it), the rate, the errors so far and the time, each frozen when its
task ends. The table printed after the run has the other counts."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TaskID, TextColumn
from rich.progress import Task as BarTask
from rich.table import Column
from rich.text import Text

from integrator.engine.history import Counts

__all__ = ["ProgressEvent", "RunProgress", "progress_display"]


class ProgressEvent(Protocol):
    """What the engine reports after each page (``integrator.engine.run.Progress``): the
    counts so far; ``total`` (records the task will read, when known) and ``finished`` (the
    task ended) when the engine gives them."""

    @property
    def project(self) -> str: ...
    @property
    def task(self) -> str: ...
    @property
    def counts(self) -> Counts: ...


def _elapsed(task: BarTask) -> float | None:
    return task.finished_time if task.finished else task.elapsed


class _ReadColumn(ProgressColumn):
    """``1,200/5,000 read``, or ``1,200 read`` while the total is unknown."""

    def render(self, task: BarTask) -> Text:
        expected = task.fields.get("expected")
        done = f"{int(task.completed):,}"
        return Text(f"{done}/{expected:,} read" if expected is not None else f"{done} read")


class _RateColumn(ProgressColumn):
    """Records read per second, over the task's whole time (frozen when it ends)."""

    def render(self, task: BarTask) -> Text:
        elapsed = _elapsed(task)
        if not elapsed:
            return Text("")
        return Text(f"{task.completed / elapsed:,.0f} rec/s")


class _ElapsedColumn(ProgressColumn):
    """``0:01:05``: the task's time so far, frozen when it ends."""

    def render(self, task: BarTask) -> Text:
        elapsed = _elapsed(task)
        if elapsed is None:
            return Text("-:--:--")
        seconds = int(elapsed)
        return Text(f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}")


class RunProgress:
    """One bar per task of a run, fed by the engine's progress events."""

    def __init__(self, console: Console, *, get_time: Callable[[], float] | None = None) -> None:
        self.bars = Progress(
            # the task first: on a narrow terminal the project's name is what gets cut
            TextColumn(
                "{task.description}",
                markup=False,  # task and project names are shown as typed
                table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis", min_width=12),
            ),
            BarColumn(bar_width=12),
            _ReadColumn(table_column=Column(no_wrap=True)),
            _RateColumn(table_column=Column(no_wrap=True)),
            TextColumn("{task.fields[counts]}", markup=False, table_column=Column(no_wrap=True)),
            _ElapsedColumn(table_column=Column(no_wrap=True)),
            console=console,
            transient=True,
            get_time=get_time,
            expand=True,
        )
        self._tasks: dict[tuple[str, str], TaskID] = {}
        self._open: set[TaskID] = set()

    def update(self, event: ProgressEvent) -> None:
        """Show ``event``; a task's line stops (bar full, time and rate frozen) when the event
        says it finished, or when the next task starts (tasks run one after the other)."""
        key = (event.project, event.task)
        total: int | None = getattr(event, "total", None)
        finished: bool = getattr(event, "finished", False)
        handle = self._tasks.get(key)
        if handle is None:
            for other in list(self._open):
                self._stop(other)
            handle = self.bars.add_task(
                f"{event.task} ({event.project})", total=total, counts="", expected=total
            )
            self._tasks[key] = handle
            self._open.add(handle)
        elif handle not in self._open:
            return
        c = event.counts
        self.bars.update(
            handle,
            completed=c.read,
            total=total if total is not None else self.bars.tasks[self._index(handle)].total,
            expected=total,
            counts=f"{c.errors:,} errors" if c.errors != 1 else "1 error",
        )
        if finished:
            self._stop(handle)

    def _index(self, handle: TaskID) -> int:
        return next(i for i, task in enumerate(self.bars.tasks) if task.id == handle)

    def _stop(self, handle: TaskID) -> None:
        task = self.bars.tasks[self._index(handle)]
        # a finished task's bar is full: it read all it was going to read
        self.bars.update(handle, total=task.completed)
        self.bars.stop_task(handle)
        self._open.discard(handle)

    def snapshot(self, width: int = 160) -> str:
        """The display as plain text, as the terminal shows it now."""
        buffer = io.StringIO()
        Console(file=buffer, width=width, color_system=None).print(self.bars.get_renderable())
        return buffer.getvalue()


@contextmanager
def progress_display(enabled: bool) -> Iterator[Callable[[ProgressEvent], None] | None]:
    """A progress sink drawing on stderr while the block runs (``None`` when not ``enabled``)."""
    if not enabled:
        yield None
        return
    display = RunProgress(Console(stderr=True))
    with display.bars:
        yield display.update
