"""``integrator cancel`` on runs that ended, do not exist, still run or died, and the run
records ``integrator history`` shows (started by, slot, end reason, heartbeat, cancel)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.connections import history_url
from integrator.engine.history import EndReason, HistoryStore, RunStatus
from integrator.engine.lock import ProjectLock
from tests.commands import integrator

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
LONG_AGO = "2026-01-01T08:00:00.000Z"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace (no command here asks a system)."""
    return init_workspace(tmp_path / "ws", "http://127.0.0.1:9")


@pytest.fixture
def history(workspace: Path) -> Iterator[HistoryStore]:
    store = HistoryStore.open(history_url(load_workspace(workspace)))
    yield store
    store.close()


def _run_json(workspace: Path, run_id: int) -> dict[str, Any]:
    done = integrator("history", "--run", str(run_id), "--workspace", str(workspace), "--json")
    assert done.returncode == 0, done.stderr
    run: dict[str, Any] = json.loads(done.stdout)["runs"][0]
    return run


def _age_heartbeat(workspace: Path, run_id: int) -> None:
    conn = sqlite3.connect(workspace / "history.db")
    with conn:
        conn.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (LONG_AGO, run_id))
    conn.close()


def test_cancel_of_an_unknown_run_says_so_as_history_does(workspace: Path) -> None:
    cancelled = integrator("cancel", "99", "--workspace", str(workspace))
    shown = integrator("history", "--run", "99", "--workspace", str(workspace))
    assert cancelled.returncode == shown.returncode == 2
    assert "there is no run 99 in this workspace's history" in cancelled.stderr
    assert cancelled.stderr == shown.stderr


def test_cancel_of_a_finished_run_names_its_status_and_changes_nothing(
    workspace: Path, history: HistoryStore
) -> None:
    run_id = history.log.start_run(ACCOUNTS, ["Accounts"], mode="incremental")
    history.log.finish_run(run_id)
    done = integrator("cancel", str(run_id), "--workspace", str(workspace))
    assert done.returncode == 0, done.stderr
    assert f"Run {run_id} of {ACCOUNTS} has already ended: Completed at " in done.stdout
    assert "nothing to cancel" in done.stdout
    run = _run_json(workspace, run_id)
    assert run["status"] == "Completed" and run["cancel_requested_at"] is None


def test_cancel_without_waiting_records_the_request(workspace: Path, history: HistoryStore) -> None:
    run_id = history.log.start_run(ACCOUNTS, ["Accounts"], mode="incremental")
    # held here: to cancel, the run is alive (its process has the lock)
    with ProjectLock(workspace / ".integrator" / "locks", ACCOUNTS):
        _age_heartbeat(workspace, run_id)  # even late, a locked run is not taken for dead
        asked = integrator("cancel", str(run_id), "--workspace", str(workspace), "--wait", "0")
        assert asked.returncode == 0, asked.stderr
        assert f"Asked run {run_id} of {ACCOUNTS} to stop" in asked.stdout
        assert f"integrator history --run {run_id}" in asked.stdout
        waited = integrator("cancel", str(run_id), "--workspace", str(workspace), "--wait", "1")
        assert waited.returncode == 0, waited.stderr
        assert f"Run {run_id} is still running after 1 s" in waited.stdout
    run = _run_json(workspace, run_id)
    assert run["status"] == "Running" and run["cancel_requested_at"] is not None
    detail = integrator("history", "--run", str(run_id), "--workspace", str(workspace))
    assert f"Cancel requested at: {run['cancel_requested_at']}" in detail.stdout
    assert f"Last heartbeat: {LONG_AGO}" in detail.stdout


def test_a_run_whose_process_died_shows_so_and_cancel_records_it_interrupted(
    workspace: Path, history: HistoryStore
) -> None:
    run_id = history.log.start_run(ACCOUNTS, ["Accounts"], mode="incremental")
    _age_heartbeat(workspace, run_id)
    listed = integrator("history", "--workspace", str(workspace))
    assert listed.returncode == 0, listed.stderr
    assert "Running (no heartbeat since 2026-01-01 08:00:00)" in listed.stdout
    assert _run_json(workspace, run_id)["status"] == "Running"  # showing it wrote nothing

    done = integrator("cancel", str(run_id), "--workspace", str(workspace))
    assert done.returncode == 0, done.stderr
    assert (
        f"Run {run_id} of {ACCOUNTS} was no longer running (its process stopped without "
        f"recording an end (last heartbeat at {LONG_AGO})): recorded Interrupted"
    ) in done.stdout
    run = _run_json(workspace, run_id)
    assert run["status"] == "Interrupted"
    assert run["end_reason"] == "process-died"
    assert run["cancel_requested_at"] is None


def test_history_shows_who_started_each_run_and_skipped_slots(
    workspace: Path, history: HistoryStore
) -> None:
    manual = history.log.start_run(ACCOUNTS, ["Accounts"], mode="incremental")
    history.log.finish_run(manual)
    slot = "2026-12-01T08:15:00.000Z"
    skipped = history.log.start_run(
        CONTACTS, ["Contacts"], mode="incremental", trigger="schedule", scheduled_for=slot
    )
    history.log.finish_run(
        skipped,
        RunStatus.SKIPPED,
        message="the run of 08:00 was still running and one already waited",
        end_reason=EndReason.SKIPPED_BUSY,
    )
    listed = integrator("history", "--workspace", str(workspace))
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert "Started by" in next(line for line in lines if "Project" in line)
    manual_line = next(line for line in lines if ACCOUNTS in line)
    assert "manual" in manual_line and "Completed" in manual_line
    skipped_line = next(line for line in lines if CONTACTS in line)
    assert "schedule" in skipped_line and "Skipped" in skipped_line
    assert "the run of 08:00 was still running and one already waited" in skipped_line

    runs = json.loads(integrator("history", "--workspace", str(workspace), "--json").stdout)
    by_id = {run["id"]: run for run in runs["runs"]}
    assert by_id[skipped]["trigger"] == "schedule"
    assert by_id[skipped]["scheduled_for"] == slot
    assert by_id[skipped]["end_reason"] == "skipped-busy"
    assert by_id[manual]["trigger"] == "manual" and by_id[manual]["end_reason"] == "finished"
    assert by_id[manual]["started_at"] and by_id[manual]["finished_at"]

    detail = integrator("history", "--run", str(skipped), "--workspace", str(workspace))
    assert "Started by: schedule" in detail.stdout
    assert f"Scheduled for: {slot}" in detail.stdout
    assert "(skipped-busy)" in detail.stdout
