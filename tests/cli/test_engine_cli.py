"""``integrator run``, ``history`` and ``rerun`` through the real command, against a sandbox."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from integrator.sandbox.testing import SandboxHandle
from tests.commands import integrator

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"


def _json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_run_json_follows_the_contract(workspace: Path) -> None:
    result = integrator("run", "--workspace", str(workspace), "--json")
    assert result.returncode == 0, result.stderr  # Warnings are not Errors
    runs = _json(result)["runs"]
    assert runs[0]["project"] == ACCOUNTS
    for run in runs:
        assert {"project", "status", "tasks"} <= run.keys()
        assert run["status"] == "Warning"
        for task in run["tasks"]:
            assert {"name", "status", "counts", "errors"} <= task.keys()
            assert set(task["counts"]) == {"read", "inserted", "updated", "unchanged", "errors"}
            for error in task["errors"]:
                assert set(error) == {"key", "leg", "field", "message"}
    contacts = next(r for r in runs if r["project"] == CONTACTS)["tasks"][0]
    assert {
        "key": "CON-01002-INFLUE",
        "leg": "CDS → Destination",
        "field": "DecisionMakingRoleCode",
        "message": "DecisionMakingRoleCode 'Influencer' does not exist in company USMF",
    } in contacts["errors"]


def test_history_newest_first_and_found_from_the_current_directory(workspace: Path) -> None:
    assert integrator("run", ACCOUNTS, cwd=workspace).returncode == 0
    # nothing changed: Accounts has nothing to do (its failed record waits for its backoff)
    everything = integrator("run", "--workspace", str(workspace), "--json")
    assert everything.returncode == 0
    accounts_run = _json(everything)["runs"][0]
    assert accounts_run["status"] == "Completed"
    assert "1 record(s) still wait for a fix" in accounts_run["message"]
    listed = _json(integrator("history", "--json", cwd=workspace / "projects"))["runs"]
    assert [r["id"] for r in listed] == sorted((r["id"] for r in listed), reverse=True)
    assert len(listed) == 4
    accounts = _json(integrator("history", "Accounts", "--json", "--workspace", str(workspace)))
    assert [r["project"] for r in accounts["runs"]] == [ACCOUNTS, ACCOUNTS]
    table = integrator("history", "--workspace", str(workspace))
    assert table.returncode == 0 and "Execution history" in table.stdout


def test_run_detail_and_rerun(workspace: Path) -> None:
    runs = _json(integrator("run", "--workspace", str(workspace), "--json"))["runs"]
    contacts = next(r for r in runs if r["project"] == CONTACTS)
    detail = integrator("history", "--run", str(contacts["id"]), "--workspace", str(workspace))
    assert "CON-01002-INFLUE" in detail.stdout and "Failed records" in detail.stdout
    again = integrator("rerun", str(contacts["id"]), "--workspace", str(workspace), "--json")
    rerun = _json(again)["runs"][0]
    assert rerun["rerun_of"] == contacts["id"]
    assert rerun["tasks"][0]["counts"]["read"] == contacts["tasks"][0]["counts"]["errors"]
    # every retried record failed again the same way: still failing, a Warning, not an Error
    assert again.returncode == 0 and rerun["status"] == "Warning"


def test_prerequisite_never_completed_is_refused(workspace: Path) -> None:
    result = integrator("run", CONTACTS, "--workspace", str(workspace))
    assert result.returncode == 2
    assert f'requires "{ACCOUNTS}" to have run first' in result.stdout + result.stderr


def test_invalid_project_names_file_line_and_field_and_writes_nothing(
    workspace: Path, sandbox: SandboxHandle
) -> None:
    project = workspace / "projects" / f"{CONTACTS}.yaml"
    text = project.read_text(encoding="utf-8")
    project.write_text(
        text.replace(
            "{destination: JobTitle, source: jobtitle}", "{destination: JobTitle, source: jobtitel}"
        ),
        encoding="utf-8",
    )
    line = next(i for i, t in enumerate(project.read_text().splitlines(), 1) if "jobtitel" in t)
    result = integrator("run", "--workspace", str(workspace))
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert f"{CONTACTS}.yaml:{line}" in output
    assert "jobtitel" in output
    assert sandbox.request_counts()["requests"].get("finops", {}).get("PATCH", 0) == 0
    history = _json(integrator("history", "--json", "--workspace", str(workspace)))
    assert history["runs"] == []
