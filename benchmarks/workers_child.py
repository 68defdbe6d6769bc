"""One process of the shared-budget benchmark: sends GETs to a sandbox as one identity, its
request budget kept in PostgreSQL (as every worker using that identity keeps it; with
``"database": ""`` a budget of its own), and prints what it did as one JSON line.

    python -m benchmarks.workers_child '{"service": ..., "database": ..., "token": ...,
                                         "requests": 60, "limits": [20, 2.0, 52]}'

It prints ``ready`` once started and sends only after a line on its stdin, so the parent times
the budget, not Python's start-up.
"""

from __future__ import annotations

import json
import sys
import time

from integrator.connectors.http.auth import Secret, StaticTokenAuth
from integrator.connectors.http.budget import BudgetLimits, RequestBudget
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.pg_budget import PostgresBudget
from integrator.errors import RetriableError


def main(settings: dict[str, object]) -> None:
    """Send ``settings["requests"]`` GETs, then print sent / failed / waited / elapsed."""
    auth = StaticTokenAuth(Secret(str(settings["token"])))
    limits = BudgetLimits(*settings["limits"])  # type: ignore[misc]
    service = str(settings["service"])
    budget: PostgresBudget | RequestBudget
    if settings["database"]:
        budget = PostgresBudget(
            service.split("/")[2], auth.identity, limits, str(settings["database"])
        )
    else:  # a budget of its own, as a process that shares none keeps
        budget = RequestBudget(limits)
    client = ODataClient(service, auth=auth, budget=budget)
    client.request("GET", "accounts", params={"$top": "1"})  # connected, before the clock
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.monotonic()
    failed = 0
    for _ in range(int(settings["requests"])):  # type: ignore[call-overload]
        try:
            client.request("GET", "accounts", params={"$top": "1"})
        except RetriableError:
            failed += 1
    report = {
        "sent": client.requests_sent,
        "failed": failed,
        "waited": round(budget.waited_seconds, 3),
        "elapsed": time.monotonic() - started,
    }
    if isinstance(budget, PostgresBudget):
        budget.close()
    client.close()
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
