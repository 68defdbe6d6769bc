"""A run killed (SIGKILL) at any moment, then run again, ends with exactly the CDS and F&O rows
of an uninterrupted run: nothing duplicated, nothing missing, failed records still pending.

Each trial is seeded: which dataset, when the first run is killed (during start-up, or after a
drawn number of requests, which lands in any project and any batch), and whether the second
run is killed too. The kill itself is a real SIGKILL of a real ``integrator run`` process.

What a killed run leaves behind, as these trials observe it:

- its run and the task it was in stay ``Running`` in the history, with the counts of the
  batches it committed; the next run of the project (under the project's lock, so the killed
  one is surely dead) marks them ``Interrupted`` with a message saying so;
- record states (the keys each record was written under, and whether it failed) of every
  committed batch; nothing of the batch in flight, although its CDS and F&O writes may have
  happened (CDS rows of leg 1 with no F&O row yet, for instance);
- the task's checkpoint only if its read had finished: the Dataverse delta link comes with the
  last page, so a task killed half-way has no new checkpoint.

The next run reads again from the last checkpoint (from the start if there was none), so the
batch in flight and the rest are read again; rows already written count as unchanged; failed
records are still pending and retried; records gone from the source since are removed (a full
read compares the record states with what it saw).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.resilience import harness
from tests.resilience.conftest import CLEAN, DIRTY, Reference, failed_keys
from tests.resilience.harness import Dataset, KillAt

TRIALS = 22


@dataclass(frozen=True)
class Trial:
    """One seeded trial: the dataset and when to kill the first (and maybe second) run."""

    number: int
    dataset: Dataset
    first: KillAt | tuple[float, float]
    second: KillAt | tuple[float, float] | None

    def __str__(self) -> str:
        return f"trial{self.number:02d}-{self.dataset.name}"


def _trials() -> list[Trial]:
    rng = random.Random(20261126)
    trials = []
    for number in range(TRIALS):
        dataset = DIRTY if number % 5 == 4 else CLEAN
        # share of the reference run's requests to kill after; a few during start-up
        first: KillAt | tuple[float, float]
        if number % 7 == 0:
            first = KillAt(seconds=rng.uniform(0.05, 1.5))
        else:
            first = (rng.uniform(0.0, 0.97), 0.0)
        second = (rng.uniform(0.0, 0.9), 0.0) if rng.random() < 0.3 else None
        trials.append(Trial(number, dataset, first, second))
    return trials


def _kill_point(plan: KillAt | tuple[float, float], ref: Reference) -> KillAt:
    if isinstance(plan, KillAt):
        return plan
    return KillAt(requests=max(1, round(plan[0] * ref.requests)))


def _running_runs(ws: Path) -> set[int]:
    conn = harness.history_db(ws)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM runs WHERE status = 'Running'")}
    except Exception:  # the history database may not exist yet: nothing was running
        return set()
    finally:
        conn.close()


@pytest.mark.parametrize("trial", _trials(), ids=str)
def test_killed_runs_end_as_an_uninterrupted_run(
    trial: Trial, reference: Callable[[Dataset], Reference], tmp_path: Path
) -> None:
    ref = reference(trial.dataset)
    data_dir = harness.clone(ref.data_dir, tmp_path / "sandbox")
    with harness.served(data_dir, trial.dataset) as handle:
        ws = harness.workspace(tmp_path / "ws", handle)
        log = tmp_path / "killed-runs.log"
        interrupted: set[int] = set()
        plans = [trial.first] if trial.second is None else [trial.first, trial.second]
        for plan in plans:
            at = _kill_point(plan, ref)
            if harness.run_and_kill(ws, handle, at, log):
                interrupted |= _running_runs(ws)
        # --retry-failed: the failures of the killed runs are retried now, not after backoff
        final = harness.run(ws, "--retry-failed")
        listed = harness.history(ws)
        result = harness.outputs(handle)

    # the killed runs show as Interrupted, with the reason; nothing is left Running
    by_id = {run["id"]: run for run in listed}
    for run_id in interrupted:
        assert by_id[run_id]["status"] == "Interrupted", by_id[run_id]
    assert all(run["status"] != "Running" for run in listed)
    assert sum(run["status"] == "Interrupted" for run in listed) == len(interrupted)

    # the last run went through every project and finished
    assert [run["project"] for run in final["runs"]] == list(harness.PROJECTS)
    if trial.dataset.clean:
        assert all(run["status"] == "Completed" for run in final["runs"]), final
    else:
        assert all(run["status"] in ("Completed", "Warning", "Error") for run in final["runs"])
        # every record that fails in an uninterrupted run is still retried, none forgotten
        assert failed_keys(final) == ref.failed
    for run in final["runs"]:
        for task in run["tasks"]:
            counts = task["counts"]
            assert counts["read"] == (
                counts["inserted"] + counts["updated"] + counts["unchanged"] + counts["errors"]
            ), task

    # the data: exactly the uninterrupted run's
    assert harness.duplicates(result) == {}
    assert harness.differences(result, ref.outputs) == []
    assert result == ref.outputs
