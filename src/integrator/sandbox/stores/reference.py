"""The reference data a new sandbox starts with (SPEC §4, issue 2 item 1)."""

from __future__ import annotations

import sqlite3

import pycountry

__all__ = ["COMPANIES", "load_reference_data"]

#: F&O legal entities; ``usmf`` is the default company, ``demf`` is there for cross-company work
COMPANIES = (
    ("USMF", "Contoso Entertainment System USA"),
    ("DEMF", "Contoso Entertainment System Germany"),
)

_CUSTOMER_GROUPS = (
    ("10", "Wholesale customers"),
    ("20", "Major customers"),
    ("30", "Retail customers"),
)
_LANGUAGES = (
    ("en-us", "English (United States)"),
    ("en-gb", "English (United Kingdom)"),
    ("de", "German"),
    ("fr", "French"),
    ("es", "Spanish"),
    ("it", "Italian"),
    ("nl", "Dutch"),
    ("da", "Danish"),
    ("sv", "Swedish"),
    ("nb-no", "Norwegian (Bokmål)"),
    ("pl", "Polish"),
    ("pt-br", "Portuguese (Brazil)"),
    ("ja", "Japanese"),
    ("zh-hans", "Chinese (Simplified)"),
    ("ru", "Russian"),
)
_SITES = (("1", "Site 1"), ("2", "Site 2"), ("3", "Site 3"))
#: warehouse id, name, site
_WAREHOUSES = (
    ("11", "Main warehouse", "1"),
    ("12", "Secondary warehouse", "1"),
    ("13", "Distribution center", "1"),
    ("21", "Site 2 warehouse", "2"),
    ("22", "Site 2 overflow", "2"),
    ("31", "Site 3 warehouse", "3"),
)
#: on purpose without ``Influencer``: the seed's "value must exist in F&O" precondition
_DECISION_MAKING_ROLES = (("DecisionMaker", "Decision maker"), ("Employee", "Employee"))


def _countries() -> list[tuple[str, str, str, str]]:
    return [
        (
            c.alpha_3,
            c.alpha_2,
            getattr(c, "common_name", None) or c.name,
            getattr(c, "official_name", None) or c.name,
        )
        for c in pycountry.countries
    ]


def load_reference_data(service: str, conn: sqlite3.Connection) -> None:
    """Insert ``service``'s reference data (rows already there are left alone)."""
    if service == "cds":
        conn.execute(
            "INSERT OR IGNORE INTO organizations (OrganizationId, Name) VALUES (?, ?)",
            ("ORG001", "Organization 001"),
        )
    if service != "finops":
        return
    conn.executemany(
        "INSERT OR IGNORE INTO LegalEntities (LegalEntityId, Name) VALUES (?, ?)", COMPANIES
    )
    conn.executemany(
        "INSERT OR IGNORE INTO AddressCountryRegions"
        " (CountryRegionId, ISOCode, ShortName, LongName) VALUES (?, ?, ?, ?)",
        _countries(),
    )
    conn.executemany(
        "INSERT OR IGNORE INTO Languages (LanguageId, Description) VALUES (?, ?)", _LANGUAGES
    )
    for company, _ in COMPANIES:
        area = company.lower()
        conn.executemany(
            "INSERT OR IGNORE INTO CustomerGroups (dataAreaId, CustomerGroupId, Description)"
            " VALUES (?, ?, ?)",
            [(area, *g) for g in _CUSTOMER_GROUPS],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO Sites (dataAreaId, SiteId, SiteName) VALUES (?, ?, ?)",
            [(area, *s) for s in _SITES],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO Warehouses (dataAreaId, WarehouseId, WarehouseName,"
            " OperationalSiteId) VALUES (?, ?, ?, ?)",
            [(area, *w) for w in _WAREHOUSES],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO DecisionMakingRoles (dataAreaId, DecisionMakingRoleCode,"
            " Description) VALUES (?, ?, ?)",
            [(area, *r) for r in _DECISION_MAKING_ROLES],
        )
