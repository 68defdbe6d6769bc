"""What ``integrator run`` and ``integrator history`` print for a person (not ``--json``):
failures grouped by cause with their fix, commands that work as printed, nothing cut when piped."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from tests import commands

CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
INFLUENCER_FIX = (
    "Fix: Add the decision-making role 'Influencer' in F&O (entity DecisionMakingRoles)"
)


def integrator(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command with its output piped, as ``integrator ... | cat`` (no COLUMNS set)."""
    return commands.integrator(*args, cwd=cwd, columns=None)


def run_id_of(output: str, project: str) -> int:
    line = next(line for line in output.splitlines() if line.endswith(f"{project}: Warning"))
    return int(line.split()[1])


def test_run_groups_failures_by_cause_with_the_fix_and_a_command_that_works(
    workspace: Path,
) -> None:
    given = os.path.relpath(workspace)
    result = integrator("run", "--workspace", given)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    contacts_file = workspace.resolve() / "projects" / f"{CONTACTS}.yaml"
    assert (
        "  • 1 record (CON-01002-INFLUE), Contacts, CDS → Destination, DecisionMakingRoleCode: "
        "DecisionMakingRoleCode 'Influencer' does not exist in company USMF"
    ) in out
    assert f"    {INFLUENCER_FIX}" in out
    assert f"in {contacts_file}" in out
    run_id = run_id_of(out, CONTACTS)
    suggested = f"  Every failed record: integrator history --run {run_id} --workspace {given}"
    assert suggested in out.splitlines()
    # the command runs as printed, and shows every failed record and the fix
    words = shlex.split(suggested.split(": ", 1)[1])
    detail = integrator(*words[1:])
    assert detail.returncode == 0, detail.stderr
    assert "Failed records" in detail.stdout and "CON-01002-INFLUE" in detail.stdout
    assert INFLUENCER_FIX in detail.stdout


def test_suggested_commands_name_the_workspace_only_when_needed(workspace: Path) -> None:
    here = integrator("run", "Accounts", cwd=workspace)
    assert here.returncode == 0, here.stderr
    lines = [line for line in here.stdout.splitlines() if "Every failed record" in line]
    assert lines and all(line.endswith(tuple("0123456789")) for line in lines), lines
    below = integrator("history", "--run", "1", cwd=workspace / "projects")
    assert below.returncode == 0
    again = integrator("rerun", "1", cwd=workspace / "projects")
    assert f"--workspace {workspace.resolve()}" in again.stdout


def test_history_piped_is_never_cut(workspace: Path) -> None:
    assert integrator("run", "--workspace", str(workspace)).returncode == 0
    result = integrator("history", "--workspace", str(workspace))
    assert result.returncode == 0
    assert "…" not in result.stdout
    assert any(CONTACTS in line for line in result.stdout.splitlines())
    assert max(len(line) for line in result.stdout.splitlines()) > 80
    assert all(line == line.rstrip() for line in result.stdout.splitlines())
    detail = integrator("history", "--run", "2", "--workspace", str(workspace))
    assert "…" not in detail.stdout
    assert any("does not exist in company USMF" in line for line in detail.stdout.splitlines())
