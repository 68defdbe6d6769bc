"""Scenario W (processes sharing request budgets through PostgreSQL) at a tiny size: every
trial yields its figures, every request is answered in the end, and processes sharing a
budget keep within it. How fast is the benchmark's to say, not a test's."""

from __future__ import annotations

import pytest

from benchmarks.scenario_workers import render, scenario_workers
from tests.connectors.databases import POSTGRES_URL, postgres_missing

pytestmark = pytest.mark.timeout(300)


def test_each_trial_reports_its_figures_and_shared_budgets_meet_no_429() -> None:
    missing = postgres_missing()
    if missing is not None:
        pytest.skip(missing)
    trials = ((1, 1, True), (2, 2, True), (2, 1, False))

    figures = scenario_workers(
        POSTGRES_URL, budget_requests=5, window_seconds=1.0, windows=2, trials=trials, log=str
    )

    found = figures["trials"]
    assert [(t["workers"], t["identities"], t["shared"]) for t in found] == list(trials)
    assert [t["requests"] for t in found] == [10, 20, 10]
    assert all(t["failed"] == 0 and t["answered_200"] == t["requests"] for t in found)
    assert [t["answered_429"] for t in found if t["shared"]] == [0, 0]
    assert found[0]["ratio"] == 1.0 and all(t["ratio"] > 0 for t in found)
    table = render(figures)
    assert len([line for line in table if line.startswith("| ")]) == 1 + len(trials)
