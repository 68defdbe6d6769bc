"""A new data directory: files, schema and reference data, exactly once across reopenings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pycountry

from integrator.sandbox.stores import SandboxStore

REFERENCE_TABLES = {
    "cds": ("organizations",),
    "finops": (
        "LegalEntities",
        "CustomerGroups",
        "AddressCountryRegions",
        "Languages",
        "Sites",
        "Warehouses",
        "DecisionMakingRoles",
    ),
}


def _counts(store: SandboxStore) -> dict[str, int]:
    out = {}
    for service, tables in REFERENCE_TABLES.items():
        conn = store.connect(service)
        for t in tables:
            out[f"{service}.{t}"] = conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        conn.close()
    return out


def test_new_directory_has_three_files_and_the_services(tmp_path: Path) -> None:
    store = SandboxStore.open(tmp_path / "new")
    assert sorted(p.name for p in (tmp_path / "new").glob("*.db")) == [
        "cds.db",
        "finops.db",
        "sales.db",
    ]
    assert [s.name for s in store.services] == ["sales", "cds", "finops"]
    assert store.service("finops").default_company == "usmf"
    conn = store.connect("sales")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0
    conn.close()


def test_reference_data(
    store: SandboxStore, cds: sqlite3.Connection, finops: sqlite3.Connection
) -> None:
    assert cds.execute("SELECT OrganizationId FROM organizations").fetchall() == [("ORG001",)]
    legal = {r[0] for r in finops.execute("SELECT LegalEntityId FROM LegalEntities")}
    assert {"USMF", "DEMF"} <= legal
    groups = finops.execute(
        "SELECT CustomerGroupId FROM CustomerGroups WHERE dataAreaId = 'usmf' ORDER BY 1"
    ).fetchall()
    assert groups == [("10",), ("20",), ("30",)]
    countries = {r[0] for r in finops.execute("SELECT CountryRegionId FROM AddressCountryRegions")}
    assert countries == {c.alpha_3 for c in pycountry.countries}
    assert {"USA", "DEU", "FRA", "DNK", "CHN"} <= countries
    languages = {r[0] for r in finops.execute("SELECT LanguageId FROM Languages")}
    assert {"en-us", "de", "fr", "es"} <= languages
    site = finops.execute(
        "SELECT OperationalSiteId FROM Warehouses WHERE dataAreaId = 'usmf' AND WarehouseId = '13'"
    ).fetchone()
    assert site == ("1",)
    roles = {
        r[0]
        for r in finops.execute(
            "SELECT DecisionMakingRoleCode FROM DecisionMakingRoles WHERE dataAreaId = 'usmf'"
        )
    }
    assert roles == {"DecisionMaker", "Employee"}


def test_reopening_keeps_data_and_never_duplicates_reference_data(tmp_path: Path) -> None:
    first = SandboxStore.open(tmp_path)
    before = _counts(first)
    conn = first.connect("sales")
    conn.execute("INSERT INTO accounts (name) VALUES ('Kept')")
    conn.close()
    again = SandboxStore.open(tmp_path)
    SandboxStore.open(tmp_path, with_solution=False)
    assert _counts(again) == before
    conn = again.connect("sales")
    assert conn.execute("SELECT name FROM accounts").fetchall() == [("Kept",)]
    conn.close()


def test_deleted_reference_rows_stay_deleted_after_reopen(tmp_path: Path) -> None:
    store = SandboxStore.open(tmp_path)
    conn = store.connect("finops")
    conn.execute("DELETE FROM Languages WHERE LanguageId = 'ja'")
    conn.close()
    conn = SandboxStore.open(tmp_path).connect("finops")
    assert conn.execute("SELECT count(*) FROM Languages WHERE LanguageId = 'ja'").fetchone() == (0,)
    conn.close()


def test_tables_are_strict(sales: sqlite3.Connection) -> None:
    try:
        sales.execute("INSERT INTO accounts (name, statecode) VALUES ('x', 'active')")
    except sqlite3.IntegrityError as e:
        assert "cannot store TEXT value in INTEGER column accounts.statecode" in str(e)
    else:
        raise AssertionError("a STRICT table accepted text in an integer column")
