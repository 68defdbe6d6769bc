"""Data is never Rich markup: Sales values with ``[/red]`` or ``[link=...]`` in them print as
typed in ``run`` and ``history --run N``, and never become a terminal hyperlink (issue 11.4)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from integrator.sandbox.stores import SandboxStore
from integrator.sandbox.testing import SandboxHandle
from tests import commands
from tests.golden.dataset import load_sales

CLOSING = "[/red]Narnia"
LINK = "[link=https://example.invalid]x[/link]"
#: a terminal hyperlink (OSC 8)
OSC8 = "\x1b]8;"


def integrator(*args: str, terminal: bool) -> subprocess.CompletedProcess[str]:
    """The real command; ``terminal`` makes Rich write colours and links as to a terminal."""
    as_terminal: dict[str, str | None] = {
        "NO_COLOR": None,
        "FORCE_COLOR": "1",
        "TERM": "xterm-256color",
    }
    return commands.integrator(
        *args, columns=400, env=as_terminal if terminal else {"FORCE_COLOR": None}
    )


@pytest.fixture
def workspace(tmp_path: Path, sandbox: SandboxHandle) -> Path:
    load_sales(sandbox.data_dir)
    conn = SandboxStore.open(sandbox.data_dir).connect("sales")
    try:
        with conn:
            # two active customers (a quote names them) whose countries are not countries
            for number, suffix, country, lastname in (
                ("CON-09001-MARKUP", "e01", CLOSING, LINK),
                ("CON-09002-LINKED", "e02", LINK, "Linked"),
            ):
                contactid = f"00000000-0000-0000-0000-000000000{suffix}"
                conn.execute(
                    "INSERT INTO contacts (contactid, msdynce_contactnumber, firstname, lastname,"
                    " address1_country) VALUES (?, ?, ?, ?, ?)",
                    (contactid, number, "Mark", lastname, country),
                )
                conn.execute(
                    "INSERT INTO quotes (quoteid, name, customerid, customeridtype)"
                    " VALUES (?, ?, ?, 'contact')",
                    (f"00000000-0000-0000-0000-00000000f{suffix}", "Q", contactid),
                )
    finally:
        conn.close()
    root = tmp_path / "ws"
    done = integrator("init", str(root), "--sandbox", sandbox.url, terminal=False)
    assert done.returncode == 0, done.stderr
    return root


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "terminal"])
def test_markup_in_sales_data_prints_as_typed(workspace: Path, terminal: bool) -> None:
    ran = integrator("run", "--workspace", str(workspace), terminal=terminal)
    assert ran.returncode in (0, 1), ran.stderr
    assert "Traceback" not in ran.stderr and "MarkupError" not in ran.stderr
    assert OSC8 not in ran.stdout + ran.stderr
    out = _plain(ran.stdout)
    assert CLOSING in out and LINK in out, out

    listed = integrator("history", "--workspace", str(workspace), "--json", terminal=False)
    ids = [run["id"] for run in json.loads(listed.stdout)["runs"]]
    with_failures = [run_id for run_id in ids if _has_markup_failure(workspace, run_id)]
    assert with_failures, ids
    for run_id in with_failures:
        shown = integrator(
            "history", "--workspace", str(workspace), "--run", str(run_id), terminal=terminal
        )
        assert shown.returncode == 0, shown.stderr
        assert OSC8 not in shown.stdout + shown.stderr
        assert "Traceback" not in shown.stderr
        detail = _plain(shown.stdout)
        assert CLOSING in detail or LINK in detail, detail


def _has_markup_failure(workspace: Path, run_id: int) -> bool:
    detail = integrator(
        "history", "--workspace", str(workspace), "--run", str(run_id), "--json", terminal=False
    )
    run = json.loads(detail.stdout)["runs"][0]
    messages = [error["message"] for task in run["tasks"] for error in task["errors"]]
    return any(CLOSING in message or LINK in message for message in messages)
