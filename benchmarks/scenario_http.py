"""Scenario B, the protocol: the engine with its default HTTP connectors against a sandbox.

A Sales store seeded with N contacts is served by ``integrator sandbox serve`` in its own
process; a workspace made as ``integrator init WS --sandbox URL`` makes is run the way
``integrator run`` runs it (the Dataverse connector for Sales and CDS, the F&O connector for
F&O), in a measured process of its own. The sandbox counts every request it answers and every
operation inside a ``$batch``; the counts give the requests per 1000 records read and written.
The same run again with 5% of requests answered 429 shows what throttling costs.

``benchmarks.scenario_protocol`` (the connectors' own measurement: read, write new, write
unchanged, step by step) runs here too through :func:`protocol_job`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from benchmarks.scenario_engine import run_summary

__all__ = ["cli_run_job", "protocol_job", "request_economy", "served_sandbox"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served_sandbox(data_dir: Path) -> Iterator[tuple[str, int]]:
    """``integrator sandbox serve`` on ``data_dir`` in a child process: (URL, its pid)."""
    port = _free_port()
    command = [
        sys.executable, "-c", "from integrator.cli.main import main; main()",
        "sandbox", "serve", "--data", str(data_dir), "--port", str(port),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/_sandbox/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (from ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def set_faults(url: str, **faults: Any) -> None:
    """Replace the sandbox's fault config."""
    httpx.put(f"{url}/_sandbox/faults", json=faults, timeout=10).raise_for_status()


def reset_counts(url: str) -> None:
    """Count requests from zero."""
    httpx.delete(f"{url}/_sandbox/requests", timeout=10).raise_for_status()


def request_counts(url: str) -> dict[str, Any]:
    """The sandbox's request counts since the last reset."""
    response = httpx.get(f"{url}/_sandbox/requests", timeout=10)
    response.raise_for_status()
    counts: dict[str, Any] = response.json()
    return counts


def sales_rows(data_dir: Path) -> dict[str, int]:
    """Rows in Sales' accounts and contacts."""
    conn = sqlite3.connect(data_dir / "sales.db")
    try:
        return {
            t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            for t in ("accounts", "contacts")
        }
    finally:
        conn.close()


def request_economy(
    counts: dict[str, Any], runs: list[dict[str, Any]], rows: dict[str, int]
) -> dict[str, Any]:
    """Requests per 1000 records read and written, from the sandbox's counts.

    Reads: every request to Sales and every GET to CDS and F&O (``$metadata``, lookups), over
    the records Sales returned, which for a first run is every account once and every contact
    once per contact template (the change-tracking read carries no filter; the template's
    filter applies on the client). Writes: every other request to CDS and F&O, over the write
    operations (not GETs) their ``$batch``es carried and the records their bulk messages
    (``UpsertMultiple``, ``CreateMultiple``) carried.
    """
    requests = counts.get("requests", {})
    operations = counts.get("batch_operations", {})
    statuses = counts.get("statuses", {})
    # reads: everything sent to Sales, and the GETs (metadata, lookups) sent to CDS and F&O
    reads = sum(requests.get("sales", {}).values()) + sum(
        n for s in ("cds", "finops") for m, n in requests.get(s, {}).items() if m == "GET"
    )
    writes = sum(n for s in ("cds", "finops") for m, n in requests.get(s, {}).items() if m != "GET")
    ops = sum(n for s in ("cds", "finops") for m, n in operations.get(s, {}).items() if m != "GET")
    targets = counts.get("bulk_targets", {})
    ops += sum(n for s in ("cds", "finops") for n in targets.get(s, {}).values())
    contact_tasks = sum(1 for r in runs for t in r["tasks"] if t["name"] != "Accounts")
    returned = rows["accounts"] + rows["contacts"] * contact_tasks
    selected = sum(t["read"] for r in runs for t in r["tasks"])
    throttled = sum(int(s.get("429", 0)) for s in statuses.values())
    return {
        "total_requests": counts.get("total", 0),
        "read_requests": reads,
        "write_requests": writes,
        "records_returned_by_sales": returned,
        "records_selected": selected,
        "records_written": ops,
        "requests_per_1000_read": round(reads * 1000 / max(returned, 1), 3),
        "requests_per_1000_written": round(writes * 1000 / max(ops, 1), 3),
        "throttled_429": throttled,
        "by_service": requests,
        "batch_operations": operations,
        "statuses": statuses,
    }


def cli_run_job(workspace: str) -> dict[str, Any]:
    """Job: run every project of ``workspace`` as ``integrator run`` does (its own
    connectors, from its connection set)."""
    from integrator.config.workspace import load_workspace
    from integrator.engine.run import Engine

    engine = Engine(load_workspace(workspace))
    try:
        runs = engine.run()
    finally:
        engine.close()
    return {"runs": run_summary(runs)}


def protocol_job(contacts: int, throttle_rate: float = 0.0) -> dict[str, Any]:
    """Job: ``benchmarks.scenario_protocol.run`` (the connectors' step-by-step economy)."""
    from benchmarks import scenario_protocol

    result: dict[str, Any] = scenario_protocol.run(contacts, throttle_rate=throttle_rate)
    return result
