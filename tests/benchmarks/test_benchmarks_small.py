"""The benchmarks at a tiny size, so they keep working: every scenario runs and yields figures.

No timing is asserted (speed belongs to the benchmarks themselves). What is asserted is what a
reader of ``BENCHMARKS.md`` relies on: every figure is there, the floor and dlt wrote exactly
the rows integrator wrote, throttling lost nothing, and the report quotes targets and ratios.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from benchmarks.__main__ import main
from benchmarks.measure import measure
from benchmarks.peer_dlt import dlt_version
from benchmarks.report import targets
from tests.connectors.databases import POSTGRES_URL, postgres_missing

SMALL, SMALLER, PROTOCOL, STEPS = 2_000, 1_000, 1_000, 300

# the fixture runs every scenario (a minute or two on a quiet machine)
pytestmark = pytest.mark.timeout(1200)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One tiny run of ``python -m benchmarks``: its results JSON and its report."""
    root = tmp_path_factory.mktemp("bench")
    output, results = root / "BENCHMARKS.md", root / "results.json"
    code = main(
        [
            "--contacts", str(SMALL), "--memory-contacts", str(SMALLER),
            "--protocol-contacts", str(PROTOCOL), "--connector-steps-contacts", str(STEPS),
            "--work-dir", str(root / "work"), "--output", str(output),
            "--results", str(results),
            *([] if postgres_missing() else ["--postgres", POSTGRES_URL]),
        ]
    )  # fmt: skip
    assert code == 0
    return {
        "results": json.loads(results.read_text()),
        "report": output.read_text(),
        "output": output,
        "results_path": results,
    }


def _size(bench: dict[str, Any], contacts: int) -> dict[str, Any]:
    size: dict[str, Any] = bench["results"]["scenario_a"]["sizes"][str(contacts)]
    return size


def test_with_a_postgresql_server_the_history_there_changes_no_row(
    bench: dict[str, Any],
) -> None:
    missing = postgres_missing()
    if missing:
        pytest.skip(missing)
    for contacts in (SMALLER, SMALL):
        size = _size(bench, contacts)
        assert size["same_rows"]["integrator_pg_history"] is True
        assert size["initial_pg"]["runs"] == size["initial"]["runs"]
        for run in size["no_change_pg"]["runs"]:
            assert run["tasks"][0]["inserted"] == run["tasks"][0]["updated"] == 0
    assert "- initial run with the history on PostgreSQL / on SQLite: **" in bench["report"]


def test_scenario_a_measures_every_run_at_both_sizes(bench: dict[str, Any]) -> None:
    for contacts in (SMALLER, SMALL):
        size = _size(bench, contacts)
        assert size["seed"]["contacts"] == contacts
        assert size["seed"]["accounts"] == contacts // 10
        for run in ("initial", "no_change", "one_percent", "floor"):
            figures = size[run]
            assert figures["wall_seconds"] > 0, run
            assert figures["cpu_seconds"] > 0, run
            assert figures["peak_rss_mib"] > 0, run
        initial = size["initial"]
        assert [r["project"] for r in initial["runs"]] == [
            "Accounts (Sales to Fin and Ops)",
            "Contacts to Contact (Sales to Fin and Ops)",
            "Contacts to Customer (Sales to Fin and Ops)",
        ]
        accounts_task = initial["runs"][0]["tasks"][0]
        assert accounts_task["read"] == contacts // 10
        assert initial["records"] == sum(t["read"] for r in initial["runs"] for t in r["tasks"])
        assert size["one_percent"]["contacts_changed"] == contacts // 100
        changed = size["one_percent"]["runs"][1]["tasks"][0]
        assert changed["updated"] > 0
        # a run with no change writes nothing (it only retries the records that failed)
        for run in size["no_change"]["runs"]:
            task = run["tasks"][0]
            assert task["inserted"] == task["updated"] == 0


def test_the_floor_writes_exactly_the_rows_integrator_writes(bench: dict[str, Any]) -> None:
    for contacts in (SMALLER, SMALL):
        size = _size(bench, contacts)
        assert size["same_rows"]["floor"] is True
        assert size["checksums"]["floor"] == size["checksums"]["integrator"]
        assert size["checksums"]["integrator"]["finops.CDSContactPersons"]["rows"] > 0


def test_dlt_writes_exactly_the_rows_integrator_writes(bench: dict[str, Any]) -> None:
    if dlt_version() is None:
        pytest.skip("dlt is not installed (optional extra: pip install -e '.[bench]')")
    size = _size(bench, SMALL)
    assert size["dlt"]["wall_seconds"] > 0
    assert size["same_rows"]["dlt"] is True
    assert size["checksums"]["dlt"] == size["checksums"]["integrator"]


def test_scenario_b_counts_requests_and_throttling_loses_nothing(bench: dict[str, Any]) -> None:
    b = bench["results"]["scenario_b"]
    clean, throttled = b["clean"], b["throttled"]
    for run in (clean, throttled):
        economy = run["economy"]
        assert economy["read_requests"] > 0
        assert economy["write_requests"] > 0
        assert economy["records_written"] > 0
        assert economy["requests_per_1000_read"] > 0
        assert economy["requests_per_1000_written"] > 0
        assert run["records_per_second"] > 0
    assert clean["economy"]["throttled_429"] == 0
    assert throttled["rate_429"] == 0.05
    assert throttled["runs"] == clean["runs"]
    steps = b["connector_steps"]
    assert steps["contacts"] == STEPS
    assert steps["read_sales"]["requests"] > 0


def test_the_report_quotes_command_targets_and_ratios(bench: dict[str, Any]) -> None:
    report: str = bench["report"]
    assert "Command: `python -m benchmarks --contacts 2000" in report
    assert "## Targets (issue 6)" in report
    names = [t["target"] for t in targets(bench["results"])]
    assert len(names) == (7 if dlt_version() else 6)
    for name in names:
        assert f"| {name} |" in report
    assert "- integrator / floor: **" in report
    assert "HTTP requests per 1000 records written" in report
    assert "Python 3." in report and "SQLite" in report


def test_render_only_writes_the_report_again_from_saved_results(
    bench: dict[str, Any], tmp_path: Path
) -> None:
    saved = tmp_path / "results.json"
    saved.write_text(bench["results_path"].read_text())
    output = tmp_path / "again.md"
    assert main(["--render", str(saved), "--output", str(output), "--note", "re-rendered"]) == 0
    text = output.read_text()
    assert "**Note:** re-rendered" in text
    assert text.replace("**Note:** re-rendered\n\n", "") == bench["report"]


def test_a_step_over_its_time_limit_is_stopped_and_reported(tmp_path: Path) -> None:
    data = tmp_path / "sandbox"
    stopped = measure("seed", timeout=0.5, data_dir=str(data), contacts=5_000_000)
    assert stopped.timed_out and stopped.result is None
    # stopped before its one transaction committed: no contact was added
    if (data / "sales.db").exists():
        conn = sqlite3.connect(data / "sales.db")
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "contacts" in tables:
                assert conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0
        finally:
            conn.close()
