"""Scenario W, many workers: does throughput scale with identities, not with processes on one?

A sandbox served in its own process enforces a request budget per identity the way Dataverse
does (its ``budget_requests`` fault: at most R requests per W-second sliding window per
``Authorization``, a 429 with ``Retry-After`` past it). 1, 2 and 4 worker processes
(:mod:`benchmarks.workers_child`, each a real :class:`ODataClient` whose budget is a
:class:`PostgresBudget` in a fresh PostgreSQL database, as ``integrator worker`` processes
sharing a workspace keep it) send the same number of requests per identity, spread over 1, 2
or 4 identities. Each trial's throughput is given as a ratio to the trial with one process and
one identity, measured in the same run; the 429s the sandbox answered show whether the
processes together stayed within each identity's budget. One more trial gives two processes
on one identity budgets of their own (not shared), as two machines without the shared
budget would: the 429s it meets are what the shared budget saves.

    python -m benchmarks.scenario_workers --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.scenario_http import request_counts, reset_counts, served_sandbox, set_faults

__all__ = ["TRIALS", "fresh_database", "render", "scenario_workers"]

#: (worker processes, identities, budgets shared through PostgreSQL)
TRIALS: tuple[tuple[int, int, bool], ...] = (
    (1, 1, True),
    (2, 1, True),
    (4, 1, True),
    (2, 2, True),
    (4, 2, True),
    (4, 4, True),
    (2, 1, False),
)


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new database on the server at ``server_url`` (its URL), dropped afterwards."""
    name = f"bench_budget_{uuid.uuid4().hex[:10]}"
    server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.dispose()


def _trial(
    url: str,
    server_url: str,
    *,
    workers: int,
    identities: int,
    shared: bool,
    requests_per_identity: int,
    budget: tuple[int, float],
) -> dict[str, Any]:
    set_faults(url, budget_requests=budget[0], budget_window_seconds=budget[1], services=["sales"])
    with fresh_database(server_url) as database:
        processes = []
        for n in range(workers):
            identity = n % identities
            share = requests_per_identity // (workers // identities)
            settings = {
                "service": f"{url}/sales/api/data/v9.2/",
                "database": database if shared else "",
                "token": f"identity-{identity}",
                "requests": share,
                "limits": [budget[0], budget[1], 52],
            }
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "benchmarks.workers_child", json.dumps(settings)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for process in processes:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("a benchmark worker did not start")
        reset_counts(url)
        started = time.monotonic()
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        reports = []
        for process in processes:
            out, _ = process.communicate(timeout=600)
            if process.returncode != 0:
                raise RuntimeError(f"a benchmark worker failed ({process.returncode})")
            reports.append(json.loads(out.strip().splitlines()[-1]))
        wall = time.monotonic() - started
    statuses = request_counts(url)["statuses"].get("sales", {})
    sent = requests_per_identity * identities
    return {
        "workers": workers,
        "identities": identities,
        "shared": shared,
        "requests": sent,
        "wall_seconds": round(wall, 2),
        "requests_per_second": round(sent / wall, 2),
        "answered_200": int(statuses.get("200", 0)),
        "answered_429": int(statuses.get("429", 0)),
        "failed": sum(int(r["failed"]) for r in reports),
        "waited_seconds": round(sum(float(r["waited"]) for r in reports), 1),
    }


def scenario_workers(
    server_url: str,
    *,
    budget_requests: int = 20,
    window_seconds: float = 2.0,
    windows: int = 5,
    trials: tuple[tuple[int, int, bool], ...] = TRIALS,
    log: Any = print,
) -> dict[str, Any]:
    """Every trial of ``trials`` (processes, identities, shared) against one served sandbox,
    the first the baseline; ``windows`` windows' worth of requests per identity in each.
    Returns the figures :func:`render` formats."""
    per_identity = budget_requests * windows
    results: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="integrator-bench-workers-") as work,
        served_sandbox(Path(work) / "sandbox") as (url, _pid),
    ):
        for workers, identities, shared in trials:
            figures = _trial(
                url,
                server_url,
                workers=workers,
                identities=identities,
                shared=shared,
                requests_per_identity=per_identity,
                budget=(budget_requests, window_seconds),
            )
            log(json.dumps(figures))
            results.append(figures)
    base = results[0]["requests_per_second"]
    for figures in results:
        figures["ratio"] = round(figures["requests_per_second"] / base, 2)
    return {
        "budget_requests": budget_requests,
        "window_seconds": window_seconds,
        "requests_per_identity": per_identity,
        "trials": results,
    }


def render(figures: dict[str, Any]) -> list[str]:
    """The trials as a Markdown table."""
    lines = [
        f"Budget per identity: {figures['budget_requests']} requests per "
        f"{figures['window_seconds']:g} s; {figures['requests_per_identity']} requests per "
        "identity in each trial.",
        "",
        "| Processes | Identities | Budget | Requests | Wall s | Requests/s "
        "| × 1 process, 1 identity | 429s answered | Failed |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in figures["trials"]:
        budget = "shared (PostgreSQL)" if t["shared"] else "one per process"
        lines.append(
            f"| {t['workers']} | {t['identities']} | {budget} | {t['requests']} | "
            f"{t['wall_seconds']} | {t['requests_per_second']} | {t['ratio']} | "
            f"{t['answered_429']} | {t['failed']} |"
        )
    return lines


def main() -> int:
    """``python -m benchmarks.scenario_workers``: run the trials, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, help="SQLAlchemy URL of a PostgreSQL server")
    parser.add_argument("--budget-requests", type=int, default=20)
    parser.add_argument("--window-seconds", type=float, default=2.0)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--results", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    figures = scenario_workers(
        args.postgres,
        budget_requests=args.budget_requests,
        window_seconds=args.window_seconds,
        windows=args.windows,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    if args.results is not None:
        args.results.write_text(json.dumps(figures, indent=1) + "\n")
    print("\n".join(render(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
