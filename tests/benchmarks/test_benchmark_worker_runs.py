"""Scenario W on the engine (``integrator worker`` processes, ranges, identity pools) at a tiny
size: every trial's runs read the same records, no 429 is met, and both workers of the
two-worker trial ran ranges. How fast is the benchmark's to say, not a test's."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.scenario_worker_runs import render, scenario_worker_runs
from tests.connectors.databases import POSTGRES_URL, postgres_missing

pytestmark = pytest.mark.timeout(600)


def test_each_trial_reads_the_same_records_within_the_budget(tmp_path: Path) -> None:
    missing = postgres_missing()
    if missing is not None:
        pytest.skip(missing)

    figures = scenario_worker_runs(
        POSTGRES_URL,
        tmp_path / "work",
        contacts=600,
        budget=(40, 1.0),
        parts=3,
        trials=((1, 1), (2, 2)),
        log=str,
    )

    one, two = figures["trials"]
    assert len(one["statuses"]) == 3, figures  # every project ran (none lost by its worker)
    assert one["records"] == two["records"] > 0, figures
    assert one["statuses"] == two["statuses"]
    assert one["answered_429"] == two["answered_429"] == 0
    assert all(lines > 0 for lines in two["range_log_lines_per_worker"])
    assert one["speedup"] == 1.0
    assert len([line for line in render(figures) if line.startswith("| ")]) == 3
