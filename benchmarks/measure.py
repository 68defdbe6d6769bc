"""Run one measured job in a fresh Python process and read what it cost.

Each job runs as ``python -m benchmarks.child JOB`` so its peak memory is its own: the parent
waits for it with :func:`os.wait4`, which returns that child's resource usage (``ru_maxrss``,
the resident-set high-water mark, and its CPU time). Jobs are plain functions in the modules
named by :data:`JOBS`, taking and returning JSON-compatible values.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["JOBS", "Measurement", "measure", "run_job"]

#: job name -> "module:function"
JOBS = {
    "seed": "benchmarks.scenario_engine:seed_job",
    "engine_run": "benchmarks.scenario_engine:engine_run_job",
    "change_contacts": "benchmarks.scenario_engine:change_contacts_job",
    "checksum": "benchmarks.checksum:checksum_job",
    "floor": "benchmarks.floor:floor_job",
    "dlt": "benchmarks.peer_dlt:dlt_job",
    "cli_run": "benchmarks.scenario_http:cli_run_job",
    "protocol": "benchmarks.scenario_http:protocol_job",
}


#: how long a job stopped at its time limit gets to end before it is killed
_GRACE_SECONDS = 10


@dataclass(frozen=True)
class Measurement:
    """What one job cost: wall seconds, CPU seconds (user + system), peak RSS in MiB.

    ``timed_out``: the job was stopped after its time limit; the figures are lower bounds and
    ``result`` is ``None``.
    """

    job: str
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    result: Any
    timed_out: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-compatible form."""
        return asdict(self)


def run_job(name: str, args: dict[str, Any]) -> Any:
    """Run job ``name`` with ``args`` in this process and return its result."""
    module_name, function_name = JOBS[name].split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    return function(**args)


def measure(name: str, timeout: float | None = None, **args: Any) -> Measurement:
    """Run job ``name`` in a fresh process; raises ``RuntimeError`` when it fails.

    With ``timeout`` (seconds) a job still running then is stopped (SIGTERM) and reported with
    ``timed_out`` set (killed when it has not ended ``_GRACE_SECONDS`` later).
    """
    with tempfile.TemporaryDirectory(prefix="bench-job-") as scratch:
        spec = Path(scratch) / "args.json"
        out = Path(scratch) / "result.json"
        spec.write_text(json.dumps({"job": name, "args": args, "result": str(out)}))
        env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false"}
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.child", str(spec)],
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        stopped, ended = threading.Event(), threading.Event()
        timer = None
        if timeout is not None:

            def stop() -> None:
                stopped.set()
                process.send_signal(signal.SIGTERM)
                # dlt delays SIGTERM until its current statement ends, which may be hours
                if not ended.wait(_GRACE_SECONDS):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(process.pid, signal.SIGKILL)

            timer = threading.Timer(timeout, stop)
            timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        ended.set()
        wall = time.perf_counter() - started
        if timer is not None:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        if stopped.is_set():
            result = None
        elif process.returncode != 0:
            raise RuntimeError(f"benchmark job {name} failed (exit {process.returncode})")
        else:
            result = json.loads(out.read_text())
    return Measurement(
        job=name,
        wall_seconds=round(wall, 3),
        cpu_seconds=round(usage.ru_utime + usage.ru_stime, 3),
        # Linux reports ru_maxrss in KiB
        peak_rss_mib=round(usage.ru_maxrss / 1024, 1),
        result=result,
        timed_out=stopped.is_set(),
    )
