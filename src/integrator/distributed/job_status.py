"""Where one job of the queue is, as a person following it asks: still waiting for a worker,
running (and as which run), or ended; and the record a worker makes of the run it started
for a job (``integrator_job_runs``), which is how a queued job leads to its run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import psycopg

__all__ = ["JobState", "job_state", "record_job_run"]

JobPhase = Literal["waiting", "running", "ended", "cancelled"]

#: Procrastinate's job statuses as the portal names them
_PHASES: dict[str, JobPhase] = {
    "todo": "waiting",
    "doing": "running",
    "succeeded": "ended",
    "failed": "ended",
    "aborting": "running",
    "aborted": "cancelled",
    "cancelled": "cancelled",
}


@dataclass(frozen=True)
class JobState:
    """Job ``job_id`` of ``project``: ``state`` waiting (no worker took it yet), running,
    ended or cancelled; ``run_id`` the run it recorded, once a worker started one."""

    job_id: int
    project: str
    state: JobPhase
    run_id: int | None

    def as_json(self) -> dict[str, Any]:
        """The JSON API's form (``GET /api/jobs/N``)."""
        return {
            "job_id": self.job_id,
            "project": self.project,
            "state": self.state,
            "run_id": self.run_id,
            "run_url": None if self.run_id is None else f"/api/runs/{self.run_id}",
            "url": f"/api/jobs/{self.job_id}",
        }


def job_state(conninfo: str, job_id: int) -> JobState | None:
    """Job ``job_id`` of the queue's database at ``conninfo`` (tables created by
    :func:`~integrator.distributed.schema.ensure_schema`); ``None`` when there is no such
    job."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT j.status, j.args->'chain'->>0, r.run_id FROM procrastinate_jobs j "
            "LEFT JOIN integrator_job_runs r ON r.job_id = j.id WHERE j.id = %(id)s",
            {"id": job_id},
        ).fetchone()
    if row is None:
        return None
    status, project, run_id = str(row[0]), str(row[1]), row[2]
    return JobState(job_id, project, _PHASES.get(status, "ended"), _int_or_none(run_id))


def record_job_run(conninfo: str, job_id: int, run_id: int) -> None:
    """Record that job ``job_id`` started run ``run_id`` (replacing the run of an earlier
    attempt: a job taken over from a dead worker runs again as a new run)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO integrator_job_runs (job_id, run_id) VALUES (%(job)s, %(run)s) "
            "ON CONFLICT (job_id) DO UPDATE SET run_id = EXCLUDED.run_id, recorded_at = now()",
            {"job": job_id, "run": run_id},
        )


def _int_or_none(value: object) -> int | None:
    return None if value is None else int(str(value))
