"""Procrastinate's job manager, kept steady through a PostgreSQL restart.

Procrastinate's worker stops as soon as one of its side tasks fails (the heartbeat, the
LISTEN connection) or a fetch fails, and then waits for its running jobs without beating for
them any more. A job that survives a short outage of the database (its run reconnects and
goes on for hours) would then look stalled to every other worker, and be taken over while it
still runs: two runs of one project at once. With this manager the worker rides the outage
out: the heartbeat and the fetch skip a beat, the listener connects again, and a job's end is
recorded once the database is back, so that its lock on the project is let go."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

from procrastinate import jobs, manager
from procrastinate.exceptions import ConnectorException

__all__ = ["SteadyJobManager"]

log = logging.getLogger("integrator.worker")

#: how long a job's end is tried again before the job is left to the stalled-job sweep
RECORD_END_FOR_SECONDS = 600.0
#: the pause between two tries of a database that does not answer
RETRY_PAUSE_SECONDS = 2.0


class SteadyJobManager(manager.JobManager):
    """A :class:`procrastinate.manager.JobManager` whose worker-side calls wait for the
    database instead of stopping the worker (see the module's docstring)."""

    def __init__(self, connector: Any, retry_pause: float = RETRY_PAUSE_SECONDS) -> None:
        super().__init__(connector)
        self._retry_pause = retry_pause
        self._down = False

    def _lost(self, what: str, error: ConnectorException) -> None:
        if not self._down:  # once per outage: the pauses would fill the log
            self._down = True
            log.warning(
                "the queue's database does not answer (%s: %s); waiting for it",
                what,
                str(error.__cause__ or error).strip(),
            )

    def _back(self) -> None:
        if self._down:
            self._down = False
            log.info("the queue's database answers again")

    async def update_heartbeat(self, worker_id: int) -> None:
        """Beat for ``worker_id``; a beat the database cannot take is skipped."""
        try:
            await super().update_heartbeat(worker_id)
        except ConnectorException as error:
            self._lost("heartbeat", error)
        else:
            self._back()

    async def fetch_job(self, queues: Iterable[str] | None, worker_id: int) -> jobs.Job | None:
        """The next job for ``worker_id``, or ``None``: none waits, or the database does not
        answer (the worker polls again)."""
        try:
            job = await super().fetch_job(queues=queues, worker_id=worker_id)
        except ConnectorException as error:
            self._lost("fetching a job", error)
            return None
        self._back()
        return job

    async def finish_job(self, job: jobs.Job, status: jobs.Status, delete_job: bool) -> None:
        """Record the end of ``job``, trying again while the database does not answer, for
        up to :data:`RECORD_END_FOR_SECONDS` (then it raises, and the job is left doing)."""
        deadline = time.monotonic() + RECORD_END_FOR_SECONDS
        while True:
            try:
                await super().finish_job(job=job, status=status, delete_job=delete_job)
            except ConnectorException as error:
                if time.monotonic() > deadline:
                    raise
                self._lost(f"recording the end of job {job.id}", error)
                await asyncio.sleep(self._retry_pause)
            else:
                self._back()
                return

    async def listen_for_jobs(
        self, *, on_notification: manager.NotificationCallback, queues: Iterable[str] | None = None
    ) -> None:
        """Listen for new jobs until cancelled, connecting again after the database went."""
        while True:
            try:
                await super().listen_for_jobs(on_notification=on_notification, queues=queues)
            except ConnectorException as error:
                self._lost("listening for jobs", error)
            await asyncio.sleep(self._retry_pause)
