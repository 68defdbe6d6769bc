"""``integrator worker``: take jobs from the queue and run them until SIGTERM or SIGINT.

Procrastinate's worker writes its heartbeat every ``heartbeat_seconds``. Beside it, every
``poll_seconds``, this process looks for jobs held by a worker silent for
``stalled_after_seconds`` (killed, or its machine gone) and puts them back in the queue: a
live worker then takes the job, and its run records the dead one's run Interrupted first.
A lost connection to PostgreSQL stops Procrastinate's worker; this one starts it again.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import procrastinate
from procrastinate.exceptions import ConnectorException
from procrastinate.jobs import Status

from integrator.config.models import WorkersSettings
from integrator.config.workspace import Workspace
from integrator.distributed.jobs import run_job
from integrator.distributed.partition_jobs import run_partition_job
from integrator.distributed.queue import RUN_TASK, queue_conninfo
from integrator.distributed.schema import ensure_schema
from integrator.distributed.spread import PARTITION_TASK
from integrator.distributed.steady_manager import SteadyJobManager
from integrator.engine.history.errors import HistoryUnreachable
from integrator.errors import ConfigError

__all__ = ["KEEP_FINISHED_JOBS_HOURS", "QueueWorker", "purge_finished_jobs"]

log = logging.getLogger("integrator.worker")

#: seconds between two attempts to reach the database again
_RECONNECT_SECONDS = 2.0
#: finished jobs (succeeded, failed, cancelled) are deleted from the queue this long after
#: they ended; their runs stay in the history as long as its retention says
KEEP_FINISHED_JOBS_HOURS = 7 * 24
#: how often a worker deletes them
_PURGE_EVERY_SECONDS = 3600.0


@dataclass
class QueueWorker:
    """A worker process on ``workspace``'s queue, running up to ``concurrency`` jobs at once."""

    workspace: Workspace
    concurrency: int = 1
    name: str = field(default_factory=lambda: f"{socket.gethostname()}")
    #: set on SIGTERM/SIGINT: the running runs stop after their batch, the worker ends
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        if not self.workspace.settings.distributed or self.workspace.settings.workers is None:
            raise ConfigError(
                "integrator worker needs a workspace in distributed mode: add workers: "
                "{queue: true} to integrator.yaml (its history must be PostgreSQL)"
            )
        self.settings: WorkersSettings = self.workspace.settings.workers
        self.conninfo = queue_conninfo(self.workspace)

    def run(self) -> None:
        """Run until asked to stop (SIGTERM or SIGINT, or :attr:`stop` set). Raises
        :class:`HistoryUnreachable` when the database cannot be reached at start."""
        try:
            ensure_schema(self.conninfo)
        except Exception as error:
            raise HistoryUnreachable("the queue's database", str(error).strip()) from None
        asyncio.run(self._main())

    def _app(self) -> procrastinate.App:
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=self.conninfo))
        app.job_manager = SteadyJobManager(app.connector)

        @app.task(name=RUN_TASK, pass_context=True, queue=self.settings.queue_name)
        def run_project(context: procrastinate.JobContext, /, **kwargs: Any) -> None:
            assert context.job.id is not None
            run_job(context.job.id, kwargs, self.stop)

        @app.task(name=PARTITION_TASK, pass_context=True, queue=self.settings.queue_name)
        def run_partition(context: procrastinate.JobContext, /, **kwargs: Any) -> None:
            assert context.job.id is not None
            run_partition_job(context.job.id, kwargs, self.stop)

        return app

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()

        def on_signal() -> None:
            log.info("stopping: the runs in progress end after their current batch")
            self.stop.set()
            stopped.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal)
        log.info(
            "worker %s on queue %r of %s (concurrency %s)",
            self.name,
            self.settings.queue_name,
            self.workspace.root,
            self.concurrency,
        )
        while not self.stop.is_set():
            try:
                await self._serve(stopped)
            except Exception as error:
                if self.stop.is_set():
                    break
                log.warning(
                    "lost the queue's database (%s); trying again in %g s",
                    str(error).strip() or type(error).__name__,
                    _RECONNECT_SECONDS,
                )
            if not self.stop.is_set():
                await asyncio.sleep(_RECONNECT_SECONDS)
        log.info("worker %s stopped", self.name)

    async def _serve(self, stopped: asyncio.Event) -> None:
        """One life of Procrastinate's worker, until stopped or it loses the database."""
        app = self._app()
        async with app.open_async():
            worker = asyncio.create_task(
                app.run_worker_async(
                    queues=[self.settings.queue_name],
                    concurrency=self.concurrency,
                    name=self.name,
                    install_signal_handlers=False,
                    fetch_job_polling_interval=self.settings.poll_seconds,
                    update_heartbeat_interval=self.settings.heartbeat_seconds,
                    stalled_worker_timeout=self.settings.stalled_after_seconds,
                    delete_jobs="never",
                )
            )
            sweeper = asyncio.create_task(self._take_over_stalled(app))
            waiter = asyncio.create_task(stopped.wait())
            try:
                await asyncio.wait({worker, sweeper, waiter}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sweeper.cancel()
                waiter.cancel()
                if not worker.done():
                    worker.cancel()  # Procrastinate then waits for the running jobs
                await asyncio.gather(worker, sweeper, waiter, return_exceptions=True)
            if worker.done() and not worker.cancelled() and worker.exception() is not None:
                raise worker.exception()  # type: ignore[misc]
            if not self.stop.is_set():
                raise ConnectorException("the worker stopped")

    async def _take_over_stalled(self, app: procrastinate.App) -> None:
        """Every ``poll_seconds``, put back in the queue the jobs of workers gone silent; every
        hour, delete the jobs finished more than :data:`KEEP_FINISHED_JOBS_HOURS` ago.

        A worker is judged silent only once this one has reached the database for
        ``stalled_after_seconds`` without a break: after the database was down, every
        worker's last heartbeat is old, this one's included, and the live ones need that long
        to beat again. Taking their jobs back sooner would run a project twice at once."""
        manager = app.job_manager
        clock = asyncio.get_running_loop().time
        purged_at = -_PURGE_EVERY_SECONDS
        reached_since: float | None = clock()
        while True:
            await asyncio.sleep(self.settings.poll_seconds)
            now = clock()
            if now - purged_at >= _PURGE_EVERY_SECONDS:
                purged_at = now
                try:
                    await purge_finished_jobs(manager, self.settings.queue_name)
                except ConnectorException as error:
                    log.warning("could not delete finished jobs: %s", error)
            try:
                stalled = await manager.get_stalled_jobs(
                    queue=self.settings.queue_name,
                    seconds_since_heartbeat=self.settings.stalled_after_seconds,
                )
                if reached_since is None:
                    reached_since = now
                if now - reached_since < self.settings.stalled_after_seconds:
                    continue
                for job in stalled:
                    await self._requeue(manager, job)
                await manager.prune_stalled_workers(self.settings.stalled_after_seconds)
            except ConnectorException as error:
                reached_since = None
                log.warning("could not look for stalled jobs: %s", error)

    async def _requeue(self, manager: Any, job: procrastinate.jobs.Job) -> None:
        assert job.id is not None
        chain = job.task_kwargs.get("chain")
        project = str(chain[0]) if isinstance(chain, list) and chain else "?"
        if job.task_name == PARTITION_TASK:
            kwargs = job.task_kwargs
            project = f"run {kwargs.get('run_id')}, partition {int(str(kwargs['partition'])) + 1}"
        try:
            await manager.retry_job(job)
        except ConnectorException as error:
            if "unique" not in str(error).lower() and "queueing_lock" not in str(error):
                log.info("job %s was already taken over (%s)", job.id, error)
                return
            # another run of the project already waits: it goes on from the checkpoint
            await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
            log.warning(
                "job %s (%s): its worker stopped its heartbeat; a run of %s already waits, "
                "which goes on from there",
                job.id,
                project,
                project,
            )
            return
        log.warning(
            "job %s (%s): its worker stopped its heartbeat; put back in the queue for "
            "another worker",
            job.id,
            project,
        )


async def purge_finished_jobs(
    manager: Any, queue: str, older_than_hours: int = KEEP_FINISHED_JOBS_HOURS
) -> None:
    """Delete the jobs of ``queue`` that ended (succeeded, failed, cancelled or aborted) more
    than ``older_than_hours`` ago, so the queue's tables do not grow by a row per run and per
    partition for ever."""
    await manager.delete_old_jobs(
        nb_hours=older_than_hours,
        queue=queue,
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )


def worker_for(root: Path, concurrency: int) -> QueueWorker:
    """A :class:`QueueWorker` on the workspace at ``root``."""
    from integrator.config.workspace import load_workspace

    return QueueWorker(load_workspace(root), concurrency=concurrency)
