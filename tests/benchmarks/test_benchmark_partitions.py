"""Scenario P (what a partition costs over HTTP, and the 100M plan) at a tiny size: the
three runs yield their figures, the ranged run reads exactly what the whole run reads, and the
plan has a row per identity count. How fast is the benchmark's to say, not a test's."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.scenario_partitions import IDENTITIES, render, scenario_partitions

pytestmark = pytest.mark.timeout(600)


def test_the_ranged_run_reads_what_the_whole_run_reads_and_the_plan_is_there(
    tmp_path: Path,
) -> None:
    figures = scenario_partitions(tmp_path, 2000, 2, log=str)

    whole, ranged = figures["whole"], figures["ranged"]
    assert ranged["records"] == whole["records"] > figures["half"]["records"] > 0
    assert ranged["statuses"] == whole["statuses"]
    assert ranged["sales_requests"] > whole["sales_requests"]  # it was cut: bounds, ranges
    assert figures["partitions"] == 4
    plan = figures["plan"]
    assert [row["identities"] for row in plan["by_identities"]] == list(IDENTITIES)
    assert plan["partitions"] == 42 and plan["requests"] > 0
    assert any(line.startswith("| in ranges |") for line in render(figures))
