"""Distributed mode (SPEC §9): runs as jobs on a Procrastinate queue in the workspace's
PostgreSQL history database, taken by ``integrator worker`` processes on any machine.

The queue's locks make one run per project at a time across every worker; a job for a
project defers the jobs of the projects that need it once it ends, so prerequisites run
first. :mod:`.queue` enqueues and cancels (sync, for the CLI, ``serve`` and the portal);
:mod:`.worker` runs the jobs and takes over those of a worker whose heartbeat stopped.
"""

from integrator.distributed.queue import (
    Enqueued,
    JobQueue,
    QueuedCancel,
    plan_chains,
)

__all__ = ["Enqueued", "JobQueue", "QueuedCancel", "plan_chains"]
