"""``integrator upgrade`` through the Sales Web API of a sandbox served without the solution."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from integrator.sandbox.testing import running_sandbox
from tests.cli.test_engine_cli import integrator


def test_upgrade_over_http_then_nothing_left(tmp_path: Path) -> None:
    data = tmp_path / "sandbox"
    with running_sandbox(data, with_solution=False) as sandbox:
        conn = sqlite3.connect(data / "sales.db")
        with conn:
            conn.executemany(
                "INSERT INTO contacts (contactid, lastname) VALUES (?, ?)",
                [(f"00000000-0000-0000-0000-{i:012d}", f"Legacy {i}") for i in range(1, 8)],
            )
            conn.execute(
                "INSERT INTO quotes (quoteid, name, customerid, customeridtype) VALUES "
                "('00000000-0000-0000-0000-00000000b001', 'Q', "
                "'00000000-0000-0000-0000-000000000003', 'contact')"
            )
        conn.close()
        workspace = tmp_path / "ws"
        assert integrator("init", str(workspace), "--sandbox", sandbox.url).returncode == 0
        first = integrator("upgrade", "--workspace", str(workspace), "--json")
        assert first.returncode == 0, first.stderr
        report = json.loads(first.stdout)
        assert report["contacts_numbered"] == 7 and report["failures"] == []
        assert report["active_customers_set"] == 1
        second = json.loads(integrator("upgrade", "--workspace", str(workspace), "--json").stdout)
        assert second["contacts_numbered"] == second["active_customers_set"] == 0
        assert second["company_flags_set"] == 0

    conn = sqlite3.connect(data / "sales.db")
    numbers = [row[0] for row in conn.execute("SELECT msdynce_contactnumber FROM contacts")]
    active = conn.execute(
        "SELECT count(*) FROM contacts WHERE msdynce_isactivecustomer = 1"
    ).fetchone()[0]
    conn.close()
    assert all(re.fullmatch(r"CON-010\d\d-[A-Z0-9]{6}", n) for n in numbers)
    assert len(set(numbers)) == 7 and active == 1
