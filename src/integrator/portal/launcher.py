"""Runs the portal starts (Run project, Run project with all data, Re-run execution): each in a
thread of its own, under its project's lock like any run, with the server's stop event.

The request that starts a run waits only until the run is recorded (its id), then answers 202;
the page follows the run through the history.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from integrator.config.workspace import Workspace
from integrator.engine.history import Trigger
from integrator.engine.history.models import RunSummary
from integrator.engine.lock import ProjectLock
from integrator.engine.read import RunMode
from integrator.engine.run import Engine
from integrator.errors import IntegratorError, RunNotFound

__all__ = ["LaunchedRun", "RunLauncher"]

log = logging.getLogger(__name__)

#: how long a request waits for the run it started to be recorded
START_TIMEOUT_SECONDS = 60.0


@dataclass
class LaunchedRun:
    """A run this process started from the portal."""

    project: str
    thread: threading.Thread
    run_id: int | None = None


class RunLauncher:
    """Starts runs of the workspace ``workspace()`` returns, stopping them when ``stop`` is
    set; ``on_run_end`` is called after each (the mail loop sends what it queued)."""

    def __init__(
        self,
        workspace: Callable[[], Workspace],
        *,
        stop: threading.Event,
        on_run_end: Callable[[], None] = lambda: None,
        say: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.workspace = workspace
        self.stop = stop
        self.on_run_end = on_run_end
        self.say = say
        self._runs: list[LaunchedRun] = []
        self._lock = threading.Lock()

    def start(self, project: str, *, all_data: bool = False, trigger: Trigger = "manual") -> int:
        """Validate ``project``, take its lock and start its run; returns the run's id once it
        is recorded. Raises :class:`~integrator.errors.ConfigError` (the project has problems,
        or a prerequisite never completed), :class:`~integrator.errors.SystemUnavailable`,
        :class:`~integrator.errors.ProjectBusy` (it runs already), and nothing starts then."""
        workspace = self.workspace()
        name = workspace.project_name(project)
        engine = Engine(workspace, stop=self.stop)
        try:
            engine.validate([name])
            engine.plan([name])
        except BaseException:
            engine.close()
            raise
        mode: RunMode = "all-data" if all_data else "incremental"
        return self._launch(
            engine,
            name,
            lambda lock: engine.run_project(name, mode, trigger=trigger, lock=lock),
        )

    def rerun(self, run_id: int) -> int:
        """Re-run execution of ``run_id`` (its failed records only); returns the new run's id.
        Raises :class:`~integrator.errors.RunNotFound`,
        :class:`~integrator.errors.NothingToRerun` (no run is added), and what :meth:`start`
        raises."""
        workspace = self.workspace()
        engine = Engine(workspace, stop=self.stop)
        try:
            previous = engine.history.run(run_id)
            if previous is None:
                raise RunNotFound(run_id)
            name = previous.project
            engine.prepare_rerun(run_id)  # raises NothingToRerun, ConfigError before any lock
        except BaseException:
            engine.close()
            raise
        return self._launch(engine, name, lambda lock: engine.rerun(run_id, lock=lock))

    def running(self) -> list[LaunchedRun]:
        """The portal's runs still in progress."""
        with self._lock:
            self._runs = [r for r in self._runs if r.thread.is_alive()]
            return list(self._runs)

    def join(self) -> None:
        """Wait for every run the portal started (after ``stop`` is set they end soon)."""
        for item in self.running():
            item.thread.join()

    def _launch(self, engine: Engine, name: str, body: Callable[[ProjectLock], RunSummary]) -> int:
        lock = ProjectLock(engine.workspace.root / ".integrator" / "locks", name)
        try:
            lock.acquire(wait=0)
        except BaseException:
            engine.close()
            raise
        started = threading.Event()
        failure: list[BaseException] = []
        item = LaunchedRun(name, threading.Thread(target=lambda: None))

        def on_start(run_id: int) -> None:
            item.run_id = run_id
            started.set()

        engine.on_run_start = on_start

        def work() -> None:
            try:
                summary = body(lock)
                self.say(f"{name}: run {summary.id} (started in the portal) ended {summary.status}")
            except IntegratorError as error:
                failure.append(error)
                self.say(f"{name}: the run started in the portal failed: {error}")
            except BaseException as error:  # a bug: the request that waits must hear of it
                failure.append(error)
                log.exception("the portal's run of %s failed", name)
            finally:
                lock.release()
                engine.close()
                started.set()
                self.on_run_end()

        item.thread = threading.Thread(target=work, name=f"portal run {name}", daemon=True)
        with self._lock:
            self._runs.append(item)
        item.thread.start()
        started.wait(START_TIMEOUT_SECONDS)
        if item.run_id is None:
            if failure:
                raise failure[0]
            raise TimeoutError(f"the run of {name} was not recorded within a minute")
        return item.run_id
