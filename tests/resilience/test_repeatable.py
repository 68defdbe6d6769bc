"""Run twice = run once: a run after a run changes nothing, incremental or with all data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.resilience import harness
from tests.resilience.conftest import CLEAN, DIRTY, Reference, failed_keys
from tests.resilience.harness import Dataset

MODES = [
    ("incremental-after-incremental", (), ()),
    ("all-data-after-incremental", (), ("--all-data",)),
    ("all-data-after-all-data", ("--all-data",), ("--all-data",)),
    ("incremental-after-all-data", ("--all-data",), ()),
]


@pytest.mark.parametrize("dataset", [CLEAN, DIRTY], ids=lambda d: d.name)
@pytest.mark.parametrize(("name", "once", "twice"), MODES, ids=[m[0] for m in MODES])
def test_a_second_run_changes_nothing(
    name: str,
    once: tuple[str, ...],
    twice: tuple[str, ...],
    dataset: Dataset,
    reference: Callable[[Dataset], Reference],
    tmp_path: Path,
) -> None:
    ref = reference(dataset)
    data_dir = harness.clone(ref.data_dir, tmp_path / "sandbox")
    with harness.served(data_dir, dataset) as handle:
        ws = harness.workspace(tmp_path / "ws", handle)
        first = harness.run(ws, *once)
        before = harness.raw_outputs(handle)
        handle.reset_request_counts()
        second = harness.run(ws, *twice)
        written = harness.writes(handle)
        after = harness.raw_outputs(handle)
        result = harness.outputs(handle)

    assert result == ref.outputs
    assert failed_keys(first) == ref.failed
    # not a row touched, not even its modifiedon or version; no write sent but (with all data)
    # the records that failed, each tried again once and refused again
    assert after == before
    errors = sum(task["counts"]["errors"] for run in second["runs"] for task in run["tasks"])
    assert sum(n for methods in written.values() for n in methods.values()) <= errors, written
    if dataset.clean:
        assert written == {}
    for run in second["runs"]:
        for task in run["tasks"]:
            counts = task["counts"]
            assert counts["inserted"] == counts["updated"] == 0, (run["project"], counts)
            if "--all-data" in twice:
                first_counts = next(
                    t["counts"]
                    for r in first["runs"]
                    for t in r["tasks"]
                    if t["name"] == task["name"]
                )
                assert counts["read"] == first_counts["read"], (run["project"], counts)
                assert counts["unchanged"] == first_counts["read"] - first_counts["errors"]
            else:
                # nothing changed: nothing read or sent; the records that failed wait for a
                # change, their backoff or --retry-failed (SPEC §7), and the run says so
                assert counts["read"] == counts["errors"] == 0, (run["project"], counts)
        if "--all-data" not in twice:
            assert run["status"] == "Completed", run
            if any(ref.failed[run["project"]].values()):
                assert "still wait for a fix" in (run["message"] or ""), run
    if "--all-data" in twice:
        # every record read again: the records that failed fail again, no more and no fewer
        assert failed_keys(second) == ref.failed
    else:
        assert written == {}
