"""Throttling (429 with Retry-After) and server errors (500, 503) injected by the sandbox into
whole runs: the data ends as in a fault-free run, the history counts what a fault-free run
counts, failed records are the same ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.resilience import harness
from tests.resilience.conftest import CLEAN, DIRTY, Reference, failed_keys
from tests.resilience.harness import Dataset

FAULTS: list[tuple[str, Dataset, dict[str, Any]]] = [
    ("429-retry-after-0", CLEAN, {"rate_429": 0.15, "retry_after": 0, "seed": 1}),
    ("5xx", CLEAN, {"rate_500": 0.12, "rate_503": 0.12, "retry_after": 0, "seed": 2}),
    (
        "mixed-retry-after-1",
        CLEAN,
        {"rate_429": 0.06, "rate_500": 0.05, "rate_503": 0.05, "retry_after": 1, "seed": 3},
    ),
    (
        "mixed-failing-records",
        DIRTY,
        {"rate_429": 0.1, "rate_500": 0.08, "retry_after": 0, "seed": 4},
    ),
]


def _counts(runs: list[dict[str, Any]]) -> dict[str, list[dict[str, int]]]:
    return {run["project"]: [task["counts"] for task in run["tasks"]] for run in runs}


@pytest.mark.parametrize(("name", "dataset", "faults"), FAULTS, ids=[f[0] for f in FAULTS])
def test_faults_change_nothing_but_the_request_count(
    name: str,
    dataset: Dataset,
    faults: dict[str, Any],
    reference: Callable[[Dataset], Reference],
    tmp_path: Path,
) -> None:
    ref = reference(dataset)
    data_dir = harness.clone(ref.data_dir, tmp_path / "sandbox")
    with harness.served(data_dir, dataset) as handle:
        ws = harness.workspace(tmp_path / "ws", handle)
        handle.set_faults(**faults)
        handle.reset_request_counts()
        first = harness.run(ws)
        statuses = handle.request_counts()["statuses"]
        # --retry-failed: the data failures are retried now, not after their backoff
        second = harness.run(ws, "--retry-failed")
        handle.clear_faults()
        result = harness.outputs(handle)

    injected = {
        code: sum(service.get(code, 0) for service in statuses.values())
        for code in ("429", "500", "503")
    }
    for code, rate in (("429", "rate_429"), ("500", "rate_500"), ("503", "rate_503")):
        if faults.get(rate):
            assert injected[code] > 0, f"no {code} was injected: {statuses}"

    # the faulty run did what the fault-free one did, record for record
    assert [run["status"] for run in first["runs"]] == [run["status"] for run in ref.runs]
    assert _counts(first["runs"]) == _counts(ref.runs)
    assert failed_keys(first) == ref.failed
    # and the next run found nothing new, retried only the failures (asked to)
    for run in second["runs"]:
        for task in run["tasks"]:
            counts = task["counts"]
            assert counts["inserted"] == counts["updated"] == 0, task
            assert counts["read"] == counts["errors"], task
    assert failed_keys(second) == ref.failed

    assert harness.duplicates(result) == {}
    assert harness.differences(result, ref.outputs) == []
    assert result == ref.outputs
