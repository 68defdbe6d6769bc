"""Scenario W, the engine: ``integrator worker`` processes running the three P2C projects, their
Sales reads cut into ranges, against a Sales whose request budget per identity is the limit.

A sandbox served in its own process enforces ``R`` requests per ``W`` seconds per identity on
Sales (its ``budget_requests`` fault, as Dataverse limits each user); the workspace's Sales
connection asks for pages of ``page_size`` records (so that a small dataset takes many
requests), knows the same budget, and talks as a pool of 1, 2 or 4 identities (static tokens).
The history and the queue are a fresh PostgreSQL database per trial; 1, 2 or 4 ``integrator
worker --concurrency 2`` processes are started first, then ``integrator run`` enqueues the
three projects and waits for their runs. The wall time of that command, against the trial
with one worker and one identity measured in the same run, is the figure.

    python -m benchmarks.scenario_worker_runs --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import measure
from benchmarks.scenario_engine import copy_stores
from benchmarks.scenario_http import request_counts, reset_counts, served_sandbox, set_faults
from benchmarks.scenario_workers import fresh_database

__all__ = ["TRIALS", "render", "scenario_worker_runs"]

#: (worker processes, identities)
TRIALS: tuple[tuple[int, int], ...] = ((1, 1), (2, 1), (4, 1), (2, 2), (4, 4))


def _workspace(
    root: Path, url: str, database: str, identities: int, settings: dict[str, Any]
) -> None:
    from integrator.config.workspace import init_workspace

    init_workspace(root, url)
    tokens = [f"{{token: {{env: BENCH_TOKEN_{n}}}}}" for n in range(1, identities)]
    pool = f", identities: [{', '.join(tokens)}]" if tokens else ""
    connections = root / "connections.yaml"
    text = connections.read_text()
    sales = f'url: "{url}/sales/api/data/v9.2/"\n      auth: {{type: none}}\n'
    assert sales in text, "init_workspace writes the Sales connection otherwise now"
    budget = settings["budget"]
    text = text.replace(
        sales,
        f'url: "{url}/sales/api/data/v9.2/"\n'
        f"      auth: {{type: token, token: {{env: BENCH_TOKEN_0}}{pool}}}\n"
        f"      page_size: {settings['page_size']}\n"
        f"      budget: {{requests: {budget[0]}, window_seconds: {budget[1]}, concurrent: 4}}\n",
    )
    connections.write_text(text)
    (root / "integrator.yaml").write_text(
        "version: 1\n"
        f"history:\n  database_url: '{database}'\n"
        "workers:\n  queue: true\n  poll_seconds: 0.5\n  heartbeat_seconds: 2\n"
        "  stalled_after_seconds: 10\n"
        f"partition_records: {settings['partition_records']}\n"
    )


def _env() -> dict[str, str]:
    return {
        **os.environ,
        **{f"BENCH_TOKEN_{n}": f"bench-identity-{n}" for n in range(4)},
        "NO_COLOR": "1",
    }


def _trial(
    base: Path, work: Path, server_url: str, workers: int, identities: int, settings: dict[str, Any]
) -> dict[str, Any]:
    work = work / f"trial-{len(list(work.glob('trial-*')))}"
    target = work / f"t-{workers}-{identities}"
    copy_stores(base, target)
    command = [sys.executable, "-m", "integrator.cli.main"]
    with served_sandbox(target) as (url, _pid), fresh_database(server_url) as database:
        budget = settings["budget"]
        set_faults(
            url, budget_requests=budget[0], budget_window_seconds=budget[1], services=["sales"]
        )
        ws = work / f"ws-{workers}-{identities}"
        _workspace(ws, url, database, identities, settings)
        logs = [work / f"w-{workers}-{identities}-{n}.log" for n in range(workers)]
        processes = []
        for log in logs:
            with log.open("ab") as out:
                processes.append(
                    subprocess.Popen(
                        [*command, "worker", "--workspace", str(ws), "--concurrency", "2"],
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        env=_env(),
                    )
                )
        try:
            time.sleep(3.0)  # the workers start (Python, the queue's schema) before the clock
            reset_counts(url)
            started = time.monotonic()
            done = subprocess.run(
                [*command, "run", "--workspace", str(ws), "--json"],
                capture_output=True,
                text=True,
                env=_env(),
                timeout=1800,
                check=False,
            )
            wall = time.monotonic() - started
            counts = request_counts(url)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
    shutil.rmtree(target, ignore_errors=True)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"integrator run failed ({done.returncode}): {done.stderr[-2000:]}")
    runs = json.loads(done.stdout)["runs"]
    statuses = counts.get("statuses", {}).get("sales", {})
    ranges_by_worker = [log.read_text().count(", partition ") for log in logs]
    return {
        "workers": workers,
        "identities": identities,
        "wall_seconds": round(wall, 1),
        "records": sum(t["counts"]["read"] for r in runs for t in r["tasks"]),
        "statuses": [r["status"] for r in runs],
        "sales_requests": sum(counts.get("requests", {}).get("sales", {}).values()),
        "answered_429": int(statuses.get("429", 0)),
        "range_log_lines_per_worker": ranges_by_worker,
    }


def scenario_worker_runs(
    server_url: str,
    work: Path,
    *,
    contacts: int = 4000,
    page_size: int = 100,
    budget: tuple[int, float] = (20, 2.0),
    parts: int = 8,
    trials: tuple[tuple[int, int], ...] = TRIALS,
    log: Any = print,
) -> dict[str, Any]:
    """Every trial of ``trials`` (workers, identities) on the same seeded Sales; the first is
    the baseline. Returns the figures :func:`render` formats."""
    shutil.rmtree(work, ignore_errors=True)
    base = work / "base"
    log(f"W-engine: seeding {contacts} contacts")
    measure("seed", data_dir=str(base), contacts=contacts)
    settings = {
        "page_size": page_size,
        "budget": budget,
        "partition_records": max(1, contacts // parts),
    }
    results = []
    for workers, identities in trials:
        log(f"W-engine: {workers} worker(s), {identities} identity(ies)")
        figures = _trial(base, work, server_url, workers, identities, settings)
        log(json.dumps(figures))
        results.append(figures)
    baseline = results[0]["wall_seconds"]
    for figures in results:
        figures["speedup"] = round(baseline / figures["wall_seconds"], 2)
    shutil.rmtree(work, ignore_errors=True)
    return {"contacts": contacts, **settings, "trials": results}


def render(figures: dict[str, Any]) -> list[str]:
    """The trials as a Markdown table."""
    r, w = figures["budget"]
    lines = [
        f"{figures['contacts']:,} contacts; Sales pages of {figures['page_size']}; budget "
        f"{r} requests per {w:g} s per identity; ranges of {figures['partition_records']:,} "
        "records.",
        "",
        "| Workers | Identities | Wall s | Speed-up | Records | Requests to Sales | 429s "
        "| Range lines per worker | Runs |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for t in figures["trials"]:
        lines.append(
            f"| {t['workers']} | {t['identities']} | {t['wall_seconds']} | {t['speedup']} | "
            f"{t['records']:,} | {t['sales_requests']} | {t['answered_429']} | "
            f"{t['range_log_lines_per_worker']} | {', '.join(t['statuses'])} |"
        )
    return lines


def main() -> int:
    """``python -m benchmarks.scenario_worker_runs``: run the trials, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, help="SQLAlchemy URL of a PostgreSQL server")
    parser.add_argument("--contacts", type=int, default=4000)
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-wr")
    parser.add_argument("--results", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    figures = scenario_worker_runs(
        args.postgres,
        args.work_dir,
        contacts=args.contacts,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    if args.results is not None:
        args.results.write_text(json.dumps(figures, indent=1) + "\n")
    print("\n".join(render(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
