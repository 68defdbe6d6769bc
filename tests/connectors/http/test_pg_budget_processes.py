"""Separate OS processes sharing request budgets through PostgreSQL, against a sandbox that
enforces a budget per identity the way Dataverse does (its ``budget_requests`` fault)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integrator.connectors.http.auth import Secret, StaticTokenAuth
from integrator.connectors.http.budget import BudgetLimits
from integrator.connectors.http.pg_budget import PostgresBudget
from integrator.sandbox.testing import SandboxHandle, running_sandbox

from .budget_databases import budget_database

WORKER = Path(__file__).with_name("budget_worker.py")
#: what the sandbox allows each identity, and what the clients are told
REQUESTS, WINDOW = 10, 2.0


@pytest.fixture
def database() -> Iterator[str]:
    with budget_database() as url:
        yield url


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxHandle]:
    with running_sandbox(tmp_path / "sandbox", with_solution=False) as handle:
        handle.set_faults(budget_requests=REQUESTS, budget_window_seconds=WINDOW)
        yield handle


def start(
    sandbox: SandboxHandle, database: str, token: str, **settings: Any
) -> subprocess.Popen[str]:
    settings = {
        "service": f"{sandbox.url}/sales/api/data/v9.2/",
        "database": database,
        "token": token,
        "requests": 10,
        "limits": [REQUESTS, WINDOW, 4],
        **settings,
    }
    return subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(settings)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def reports(processes: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    found = []
    for process in processes:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        found.append(json.loads(out.strip().splitlines()[-1]))
    return found


def statuses(sandbox: SandboxHandle) -> dict[str, int]:
    counted: dict[str, int] = sandbox.request_counts()["statuses"].get("sales", {})
    return counted


def run_together(sandbox: SandboxHandle, database: str, tokens: list[str]) -> float:
    """Seconds from the first request to the last of processes sending 20 each as ``tokens``
    (each process times its own requests: starting Python is not the budget's doing)."""
    done = reports([start(sandbox, database, token, requests=20) for token in tokens])
    return max(report["elapsed"] for report in done)


def test_two_processes_on_one_identity_together_stay_within_its_budget(
    sandbox: SandboxHandle, database: str
) -> None:
    started = time.monotonic()
    done = reports([start(sandbox, database, "one", requests=15) for _ in range(2)])
    elapsed = time.monotonic() - started

    # 30 requests at 10 per 2 s: the third ten cannot start before 4 s
    assert statuses(sandbox) == {"200": 30}
    assert [report["failed"] for report in done] == [0, 0]
    assert sum(report["sent"] for report in done) == 30
    assert elapsed > 2 * WINDOW
    assert sum(report["waited"] for report in done) > 0


def test_a_429_in_one_process_pauses_the_other(sandbox: SandboxHandle, database: str) -> None:
    # started first, so that its start-up does not use up the 2 s pause it is to wait out
    second_process = start(sandbox, database, "one", requests=1, limits=[100, WINDOW, 4], wait=True)
    assert second_process.stdout is not None and second_process.stdout.readline().strip() == "ready"
    # the first process thinks it may send 100: the sandbox's 429 (Retry-After 2) pauses it
    first = reports(
        [start(sandbox, database, "one", requests=11, limits=[100, WINDOW, 4], attempts=1)]
    )
    assert first[0]["failed"] == 1 and statuses(sandbox) == {"200": 10, "429": 1}

    assert second_process.stdin is not None
    second_process.stdin.write("go\n")
    second_process.stdin.flush()
    second = reports([second_process])

    # the second process never met the 429 itself, yet waited out the pause
    assert statuses(sandbox) == {"200": 11, "429": 1}
    assert second[0]["waited"] > 0.5


def test_a_killed_holders_slot_is_free_again_once_its_lease_expires(
    sandbox: SandboxHandle, database: str
) -> None:
    holder = start(sandbox, database, "one", hold=True, limits=[100, WINDOW, 1], lease_seconds=2.0)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    time.sleep(3.0)  # longer than the lease: only the holder's heartbeat keeps it
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(10)
    killed = time.monotonic()
    auth = StaticTokenAuth(Secret("one"))
    host = sandbox.url.split("/")[2]
    budget = PostgresBudget(host, auth.identity, BudgetLimits(100, WINDOW, 1), database)

    with budget.slot():
        waited = time.monotonic() - killed
    budget.close()

    assert 0.5 < waited < 5.0


def test_two_identities_move_twice_what_one_does(sandbox: SandboxHandle, database: str) -> None:
    one = run_together(sandbox, database, ["one", "one"])
    two = run_together(sandbox, database, ["two", "three"])

    # 40 requests at 10 per 2 s on one identity: 6 s at least; on two, 20 each: 2 s at least
    assert statuses(sandbox) == {"200": 80}
    assert one > 3 * WINDOW
    assert two < one / 2
