"""A Sales system the upgrade script has not been through: ``integrator run`` says to run it."""

from __future__ import annotations

import json
from pathlib import Path

from integrator.p2c.readiness import upgrade_check_due
from integrator.sandbox.testing import running_sandbox
from tests.config.test_validation_cli import integrator
from tests.p2c.test_upgrade import _legacy_sales

ACCOUNTS = "Accounts (Sales to Fin and Ops)"


def test_a_run_over_unnumbered_sales_records_names_the_upgrade(tmp_path: Path) -> None:
    data = tmp_path / "sandbox"
    _legacy_sales(data)
    with running_sandbox(data, with_solution=False) as sandbox:
        workspace = tmp_path / "ws"
        assert integrator("init", str(workspace), "--sandbox", sandbox.url).returncode == 0
        before = integrator("run", "--workspace", str(workspace), "--json")
        assert before.returncode == 0, before.stderr
        hint = f"run `integrator upgrade --workspace {workspace}` once"
        messages = {run["project"]: run["message"] for run in json.loads(before.stdout)["runs"]}
        assert all(hint in (message or "") for message in messages.values()), messages
        assert "Sales has accounts without what the Prospect to cash solution sets" in (
            messages[ACCOUNTS] or ""
        )
        human = integrator("run", ACCOUNTS, "--workspace", str(workspace))
        assert hint in " ".join(human.stdout.split())

        assert integrator("upgrade", "--workspace", str(workspace)).returncode == 0
        after = integrator("run", "--workspace", str(workspace), "--json")
        assert after.returncode == 0, after.stderr
        for run in json.loads(after.stdout)["runs"]:
            assert "integrator upgrade" not in (run["message"] or ""), run


def test_the_check_for_unset_records_runs_on_full_reads_and_while_a_note_waits() -> None:
    note = (
        "Sales has contacts without what the Prospect to cash solution sets "
        "(msdynce_contactnumber), which the templates skip: run `integrator upgrade` once"
    )
    assert upgrade_check_due(reads_everything=True, last_message=None)
    assert upgrade_check_due(reads_everything=False, last_message=f"2 records failed; {note}")
    # a run reading only changes, after a run whose check found nothing: no scan of Sales
    assert not upgrade_check_due(reads_everything=False, last_message=None)
    assert not upgrade_check_due(reads_everything=False, last_message="2 records failed")
