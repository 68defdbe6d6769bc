"""Truncate that shortens values is counted per field and shown: ``integrator run`` (text and
``--json``) and ``integrator history --run N`` (text and ``--json``) say how many values of
which field were cut to how many characters; the counts live in the history."""

from __future__ import annotations

import json
from pathlib import Path

from tests.commands import integrator

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
LINE = "Accounts, CDS → Destination, AddressCity: 1 value truncated to 60 characters (longest 7"


def _accounts_task(document: dict) -> dict:  # type: ignore[type-arg]
    run = next(r for r in document["runs"] if r["project"] == ACCOUNTS)
    [task] = run["tasks"]
    return {"id": run["id"], **task}


def test_run_and_history_say_how_many_values_truncate_cut(workspace: Path) -> None:
    done = integrator("run", ACCOUNTS, "--workspace", str(workspace), "--json")
    assert done.returncode == 0, done.stderr
    task = _accounts_task(json.loads(done.stdout))
    [cut] = task["truncated"]
    assert (cut["leg"], cut["field"], cut["limit"], cut["count"]) == (
        "CDS → Destination",
        "AddressCity",
        60,
        1,
    )
    assert cut["longest"] > 60

    text = integrator("history", "--run", str(task["id"]), "--workspace", str(workspace))
    assert text.returncode == 0, text.stderr
    assert LINE in text.stdout
    as_json = integrator(
        "history", "--run", str(task["id"]), "--workspace", str(workspace), "--json"
    )
    assert _accounts_task(json.loads(as_json.stdout))["truncated"] == [cut]

    again = integrator("run", ACCOUNTS, "--workspace", str(workspace))
    assert again.returncode == 0, again.stderr
    assert "Truncated in run" not in again.stdout  # nothing changed, nothing sent, nothing cut
    full = integrator("run", ACCOUNTS, "--workspace", str(workspace), "--all-data")
    assert full.returncode == 0, full.stderr
    assert LINE in full.stdout  # the source still holds the long value: it is cut again
