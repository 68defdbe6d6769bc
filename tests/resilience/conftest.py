"""Fixtures of the resilience suites: datasets seeded once per session, each with the result
of an uninterrupted run of it (the reference every trial is compared with)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.resilience import harness
from tests.resilience.harness import Dataset, Outputs

#: the kill suite's datasets: most are clean (every finished run Completed); one keeps the
#: seed's failing records, so pending retries must survive kills too
CLEAN = Dataset("clean", accounts=40, contacts=300, random_seed=11)
DIRTY = Dataset("dirty", accounts=40, contacts=300, random_seed=23, clean=False)


@dataclass
class Reference:
    """A dataset, its seeded sandbox directory, and what an uninterrupted run made of it."""

    dataset: Dataset
    data_dir: Path
    outputs: Outputs
    #: requests the uninterrupted run sent (kill points are drawn below it)
    requests: int
    #: project → task → keys of the records that failed
    failed: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)


def failed_keys(document: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    """project → task → keys of the failed records, from ``integrator run --json``."""
    return {
        run["project"]: {
            task["name"]: {error["key"] for error in task["errors"]} for task in run["tasks"]
        }
        for run in document["runs"]
    }


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Dataset], Reference]:
    """``reference(dataset)``: the dataset seeded, and an uninterrupted run of it in a sandbox
    of its own (computed on first use, then shared by every trial of the session)."""
    cache: dict[Dataset, Reference] = {}

    def get(dataset: Dataset) -> Reference:
        if dataset not in cache:
            root = tmp_path_factory.mktemp(f"reference-{dataset.name}")
            seeded = harness.prepare(dataset, root)
            copy = harness.clone(seeded, root / "sandbox")
            with harness.served(copy, dataset) as handle:
                ws = harness.workspace(root / "ws", handle)
                handle.reset_request_counts()
                document = harness.run(ws)
                requests = handle.request_counts()["total"]
                cache[dataset] = Reference(
                    dataset,
                    seeded,
                    harness.outputs(handle),
                    requests,
                    failed_keys(document),
                    document["runs"],
                )
        return cache[dataset]

    return get
