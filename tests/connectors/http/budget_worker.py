"""One process of the shared-budget tests: sends GETs to a sandbox as one identity, its budget
kept in PostgreSQL; prints what it saw as one JSON line.

    python budget_worker.py '{"service": ..., "database": ..., "token": ..., "requests": 20,
                              "limits": [10, 2.0, 4]}'

With ``"hold": true`` it takes one slot, prints ``holding`` and sleeps (to be killed). With
``"wait": true`` it prints ``ready`` once started and sends only after a line on its stdin, so a
test can time the budget, not Python's start-up.
"""

from __future__ import annotations

import json
import sys
import time

from integrator.connectors.http.auth import Secret, StaticTokenAuth
from integrator.connectors.http.budget import BudgetLimits
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.pg_budget import PostgresBudget
from integrator.connectors.http.retry import RetryPolicy
from integrator.errors import RetriableError


def main(settings: dict[str, object]) -> None:
    auth = StaticTokenAuth(Secret(str(settings["token"])))
    limits = BudgetLimits(*settings["limits"])  # type: ignore[misc]
    service = str(settings["service"])
    budget = PostgresBudget(
        service.split("/")[2],
        auth.identity,
        limits,
        str(settings["database"]),
        lease_seconds=float(settings.get("lease_seconds", 30.0)),  # type: ignore[arg-type]
    )
    if settings.get("hold"):
        with budget.slot():
            print("holding", flush=True)
            time.sleep(600)
    if settings.get("wait"):
        print("ready", flush=True)
        sys.stdin.readline()
    attempts = int(settings.get("attempts", 8))  # type: ignore[call-overload]
    client = ODataClient(
        service, auth=auth, budget=budget, retry=RetryPolicy(max_attempts=attempts)
    )
    started = time.monotonic()
    failed = 0
    for _ in range(int(settings["requests"])):  # type: ignore[call-overload]
        try:
            client.request("GET", "accounts", params={"$top": "1"})
        except RetriableError:
            failed += 1
    elapsed = time.monotonic() - started
    report = {
        "sent": client.requests_sent,
        "failed": failed,
        "waited": budget.waited_seconds,
        "elapsed": elapsed,
    }
    budget.close()
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
