"""A workspace on a fresh sandbox with the golden Sales data, and its mail settings."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.commands import integrator

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
SENDER = "integrator@contoso.com"
OPS = "ops@contoso.com"

#: ``configure(port, starttls=..., login=..., on=...)``: writes settings.smtp for the server on
#: ``port`` and ``notify:`` on the Contacts project (``on`` also on Accounts when given)
Configure = Callable[..., Path]


@pytest.fixture
def configure(workspace: Path) -> Configure:
    def write(
        port: int,
        *,
        starttls: bool = False,
        login: str | None = None,
        contacts_on: str | None = None,
        accounts_on: str | None = None,
    ) -> Path:
        smtp = [
            "smtp:",
            "  host: 127.0.0.1",
            f"  port: {port}",
            f"  starttls: {'true' if starttls else 'false'}",
            f"  sender: {SENDER}",
            "  timeout_seconds: 5",
        ]
        if login is not None:
            smtp += [f"  username: {login}", "  password: {env: TEST_SMTP_PASSWORD}"]
        with (workspace / "integrator.yaml").open("a", encoding="utf-8") as settings:
            settings.write("\n".join(smtp) + "\n")
        notify(workspace, CONTACTS, contacts_on)
        if accounts_on is not None:
            notify(workspace, ACCOUNTS, accounts_on, emails="[finance@contoso.com]")
        return workspace

    return write


def notify(root: Path, project: str, on: str | None, emails: str = f"[{OPS}]") -> None:
    """Append ``notify:`` to ``project``'s file (``on``: e.g. ``[error]``; default: both)."""
    lines = ["notify:", f"  emails: {emails}"]
    if on is not None:
        lines.append(f"  on: {on}")
    with (root / "projects" / f"{project}.yaml").open("a", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def run_both(root: Path, *args: str, env: dict[str, str | None] | None = None) -> Any:
    """``integrator run`` of Accounts and Contacts (``--json``): the runs, by project."""
    result = integrator(
        "run", ACCOUNTS, CONTACTS, "--workspace", str(root), "--json", *args, env=env
    )
    assert result.returncode == 0, result.stderr
    return {r["project"]: r for r in json.loads(result.stdout)["runs"]}


def history_of(root: Path, run_id: int) -> tuple[str, Any]:
    """``integrator history --run N``: its text and its ``--json`` document's run."""
    text = integrator("history", "--run", str(run_id), "--workspace", str(root))
    assert text.returncode == 0, text.stderr
    document = as_json(
        integrator("history", "--run", str(run_id), "--workspace", str(root), "--json")
    )
    return text.stdout, document["runs"][0]
