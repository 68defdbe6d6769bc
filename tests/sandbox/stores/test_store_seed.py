"""``seed_sales`` and ``integrator sandbox seed``: reproducible, realistic, consistent data."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from integrator.sandbox.stores import SandboxStore, autonumber_next
from integrator.sandbox.stores.cli import register_seed
from integrator.sandbox.stores.seed import HISTORY, seed_sales

SYSTEM = ("createdon", "modifiedon")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def rows(data: Path, table: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(data / "sales.db")
    cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in SYSTEM]
    out = conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY rowid").fetchall()
    conn.close()
    return out


def query(data: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(data / "sales.db")
    out = conn.execute(sql).fetchall()
    conn.close()
    return out


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("seeded")
    report = seed_sales(data, accounts=80, contacts=900, random_seed=7)
    assert (report.accounts, report.contacts) == (80, 900)
    return data


def test_same_seed_same_rows_other_seed_other_rows(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        seed_sales(tmp_path / name, accounts=20, contacts=150, random_seed=seed)
    for table in ("accounts", "contacts", "quotes", "salesorders", "invoices"):
        assert rows(tmp_path / "a", table) == rows(tmp_path / "b", table)
    assert rows(tmp_path / "a", "contacts") != rows(tmp_path / "c", "contacts")


def test_createdon_spreads_over_the_past_in_runs_sharing_one_instant(seeded: Path) -> None:
    stamps = query(seeded, "SELECT createdon, modifiedon FROM contacts ORDER BY rowid")
    created = [str(c) for c, _ in stamps]
    assert all(c == m for c, m in stamps)
    assert created == sorted(created)
    assert all(ISO_MS.match(c) for c in created)
    moments = [datetime.fromisoformat(c) for c in created]
    now = datetime.now(UTC)
    assert now - HISTORY - timedelta(minutes=1) < moments[0] and moments[-1] <= now
    runs = Counter(created)
    assert len(runs) > 900 / 20 and max(runs.values()) > 1


def test_routing_cases_are_all_present(seeded: Path) -> None:
    parents = Counter(t for (t,) in query(seeded, "SELECT parentcustomeridtype FROM contacts"))
    assert parents["account"] > 300 and parents["contact"] > 50 and parents[None] > 100
    active = query(seeded, "SELECT avg(msdynce_isactivecustomer) FROM contacts")[0][0]
    assert isinstance(active, float) and 0.25 < active < 0.42
    influencers = query(seeded, "SELECT count(*) FROM contacts WHERE accountrolecode = 3")[0][0]
    assert isinstance(influencers, int) and influencers > 50
    routed = query(
        seeded,
        "SELECT count(*) FROM contacts"
        " WHERE msdynce_isactivecustomer = 0 AND msdynce_iscompanyanaccount = 1",
    )[0][0]
    assert isinstance(routed, int) and routed > 200


def test_flags_agree_with_documents_and_companies(seeded: Path) -> None:
    wrong = query(
        seeded,
        "SELECT count(*) FROM contacts c WHERE msdynce_isactivecustomer IS NOT"
        " (EXISTS (SELECT 1 FROM quotes WHERE customerid = c.contactid)"
        "  OR EXISTS (SELECT 1 FROM salesorders WHERE customerid = c.contactid)"
        "  OR EXISTS (SELECT 1 FROM invoices WHERE customerid = c.contactid))"
        " OR msdynce_iscompanyanaccount IS NOT (parentcustomeridtype IS 'account')",
    )
    assert wrong == [(0,)]


def test_names_and_countries_are_messy_and_international(seeded: Path) -> None:
    names = " ".join(str(n) for (n,) in query(seeded, "SELECT fullname FROM contacts"))
    assert re.search(r"[éüøöäß]", names), "accented Latin names"
    assert re.search(r"[\u0400-\u04ff]", names), "Cyrillic names"
    assert re.search(r"[\u4e00-\u9fff]", names), "Chinese names"
    countries = {c for (c,) in query(seeded, "SELECT address1_country FROM contacts")}
    assert {"USA", "United States", "Deutschland", "Germany"} <= countries
    assert None in countries or "" in countries
    blanks = query(seeded, "SELECT count(*) FROM contacts WHERE emailaddress1 IS NULL")[0][0]
    assert isinstance(blanks, int) and blanks > 0


def test_numbers_follow_the_sequence_and_seeding_again_continues(tmp_path: Path) -> None:
    seed_sales(tmp_path, accounts=10, contacts=30)
    seed_sales(tmp_path, accounts=5, contacts=20)
    numbers = [n for (n,) in query(tmp_path, "SELECT msdynce_contactnumber FROM contacts")]
    assert all(re.fullmatch(r"CON-\d{5}-[A-Z0-9]{6}", str(n)) for n in numbers)
    assert sorted(int(str(n)[4:9]) for n in numbers) == list(range(1000, 1050))
    accounts = sorted(
        int(str(n)[4:9]) for (n,) in query(tmp_path, "SELECT accountnumber FROM accounts")
    )
    assert accounts == list(range(1000, 1015))
    conn = SandboxStore.open(tmp_path).connect("sales")
    assert autonumber_next(conn, "contact", "msdynce_contactnumber") == 1050
    conn.execute("INSERT INTO contacts (lastname) VALUES ('after the seed')")
    (number,) = conn.execute(
        "SELECT msdynce_contactnumber FROM contacts WHERE lastname = 'after the seed'"
    ).fetchone()
    assert number.startswith("CON-01050-")
    conn.close()


def test_without_the_solution_the_seed_leaves_solution_columns_empty(tmp_path: Path) -> None:
    SandboxStore.open(tmp_path, with_solution=False)
    seed_sales(tmp_path, accounts=5, contacts=40)
    assert query(
        tmp_path,
        "SELECT count(msdynce_contactnumber), count(msdynce_isactivecustomer),"
        " count(msdynce_iscompanyanaccount) FROM contacts",
    ) == [(0, 0, 0)]
    assert query(tmp_path, "SELECT count(accountnumber) FROM accounts") == [(0,)]
    assert SandboxStore.open(tmp_path, with_solution=None).with_solution is False


def test_seed_command(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("noop")(lambda: None)
    register_seed(app)
    result = CliRunner().invoke(
        app,
        [
            "seed",
            "--data",
            str(tmp_path),
            "--accounts",
            "3",
            "--contacts",
            "12",
            "--random-seed",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "added 3 accounts, 12 contacts" in result.output
    assert query(tmp_path, "SELECT count(*) FROM contacts") == [(12,)]


@pytest.mark.parametrize("with_solution", [True, False])
def test_seeding_without_triggers_gives_what_the_triggers_give(
    tmp_path: Path, with_solution: bool
) -> None:
    from integrator.sandbox.stores.seed import _seed

    for name, bypass in (("fast", True), ("triggers", False)):
        store = SandboxStore.open(tmp_path / name, with_solution=with_solution)
        seed_sales(tmp_path / name, accounts=10, contacts=50, random_seed=1)
        conn = store.connect("sales")
        conn.execute("BEGIN IMMEDIATE")
        _seed(conn, with_solution, 15, 120, 2, bypass_triggers=bypass)
        conn.execute("COMMIT")
        conn.close()
    for table in ("accounts", "contacts", "quotes", "salesorders", "invoices"):
        assert rows(tmp_path / "fast", table) == rows(tmp_path / "triggers", table)
    for sql in (
        "SELECT version FROM _ct_version",
        "SELECT * FROM _autonumber ORDER BY 1",
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY 1",
    ):
        assert query(tmp_path / "fast", sql) == query(tmp_path / "triggers", sql)
    conn = SandboxStore.open(tmp_path / "fast", with_solution=None).connect("sales")
    conn.execute("INSERT INTO contacts (firstname, lastname) VALUES ('After', 'Seed')")
    row = conn.execute(
        "SELECT fullname, versionnumber, msdynce_contactnumber FROM contacts"
        " WHERE lastname = 'Seed'"
    ).fetchone()
    assert row[0] == "After Seed"
    assert row[1] == query(tmp_path / "fast", "SELECT max(versionnumber) FROM contacts")[0][0]
    assert (row[2] or "").startswith("CON-01170-") == with_solution
    conn.close()


def test_seed_command_is_wired_into_integrator(tmp_path: Path) -> None:
    from integrator.cli.main import app as integrator_app

    runner = CliRunner()
    ok = runner.invoke(integrator_app, ["sandbox", "seed", "--data", str(tmp_path / "d"),
                                        "--contacts", "5"])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert query(tmp_path / "d", "SELECT count(*) FROM contacts") == [(5,)]
    (tmp_path / "file").write_text("not a directory")
    bad = runner.invoke(integrator_app, ["sandbox", "seed", "--data", str(tmp_path / "file")])
    assert bad.exit_code == 1
    assert "cannot seed" in bad.output
