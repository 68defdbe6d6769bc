"""The floor: hand-written SQL doing what the three P2C templates do, as fast as SQLite allows.

One connection ATTACHes the three store files and runs, per template, one ``INSERT ... SELECT``
into CDS and one into F&O: the source filter, the lookup of the parent account's number, the
defaults, the value map, Truncate, the org mapping's ``dataAreaId`` (``USMF``, as integrator
sends it), and every store rule that can reject a record on this data (an unknown country, a
parent account missing from CDS, a role missing from F&O, a person without a last name, a
contact person whose company is no customer) as ``WHERE`` conditions, so the rows the stores
would refuse are never sent and each statement runs whole. Country names are resolved once per
distinct value with integrator's own resolver (the same ISO data; the floor is about storage,
not about country tables). Writes are upserts (``ON CONFLICT DO UPDATE ... WHERE`` something
changed), so the floor is also correct on a second run. The store's triggers run as they do for
integrator, and the connection registers the stores' own ``NOCASE`` collation (Unicode case
folding, trailing spaces ignored) as every connection to a store file must: under SQLite's
built-in one the floor would search and extend the stores' key indexes in another order than
they were built in, and would do less work than any correct writer of those files.

What the floor does not do, and integrator does: history, per-record error reports, record
states, checkpoints, and any of it through a generic connector protocol.
"""

# SQL here is fixed text over the stores' own tables, never outside input.

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from integrator.mapping.country import resolve_country
from integrator.mapping.registry import is_blank
from integrator.sandbox.stores.collation import register_text_functions

__all__ = ["floor_job", "run_floor"]

ORG = "'ORG001'"
# The company as the templates' org mapping gives it (``finops_legal_entity``, USMF by default,
# as Data Integrator's docs set it): the F&O store lowers it as F&O does, with one UPDATE per
# row, and the floor pays that as every writer of the template's values does.
COMPANY = "'USMF'"

_COUNTRY_OK = "(s.address1_country IS NULL OR k.ok = 1)"

#: template -> (source SELECT giving leg-1 columns, CDS table, key, F&O table, key, leg-2 SELECT)
_ACCOUNTS_SOURCE = f"""
SELECT {ORG} AS Organization_OrganizationId, s.accountnumber AS AccountId,
       s.name AS OrganizationName, s.telephone1 AS PhonePrimary, s.fax AS Fax,
       s.emailaddress1 AS EmailPrimary, s.websiteurl AS WebSiteURL,
       s.address1_line1 AS PrimaryAddressStreet, s.address1_city AS PrimaryAddressCity,
       s.address1_stateorprovince AS PrimaryAddressStateOrProvince,
       s.address1_postalcode AS PrimaryAddressPostalCode,
       s.address1_county AS PrimaryAddressCounty,
       k.code AS PrimaryAddressCountryRegionISOCode, 'Organization' AS PartyType
FROM main.accounts s LEFT JOIN temp.country k ON k.src = s.address1_country
WHERE s.accountnumber IS NOT NULL AND {_COUNTRY_OK}
"""

_ACCOUNTS_FO = f"""
SELECT {COMPANY}, AccountId, AccountId, PartyType, substr(OrganizationName, 1, 100),
       PhonePrimary, EmailPrimary, Fax, WebSiteURL, PrimaryAddressStreet,
       substr(PrimaryAddressCity, 1, 60), substr(PrimaryAddressStateOrProvince, 1, 10),
       substr(PrimaryAddressPostalCode, 1, 10), substr(PrimaryAddressCounty, 1, 10),
       coalesce(nullif(trim(PrimaryAddressCountryRegionISOCode), ''), 'USA'),
       '10', '1', '13', 'en-us', 'Yes'
FROM temp.task
WHERE nullif(trim(substr(OrganizationName, 1, 100)), '') IS NOT NULL
"""
_ACCOUNTS_FO_COLUMNS = (
    "dataAreaId", "CustomerAccount", "PartyNumber", "PartyType", "OrganizationName",
    "PrimaryContactPhone", "PrimaryContactEmail", "PrimaryContactFax", "PrimaryContactURL",
    "AddressStreet", "AddressCity", "AddressState", "AddressZipCode", "AddressCounty",
    "AddressCountryRegionISOCode", "CustomerGroupId", "SiteId", "WarehouseId", "LanguageId",
    "IsExternallyMaintained",
)  # fmt: skip

_CONTACTS_SOURCE = f"""
SELECT {ORG} AS Organization_OrganizationId, s.msdynce_contactnumber AS ContactId,
       s.firstname AS FirstName, s.middlename AS MiddleName, s.lastname AS LastName,
       s.fullname AS FullName, s.emailaddress1 AS EmailPrimary, s.telephone1 AS PhonePrimary,
       s.mobilephone AS PhoneCell, s.fax AS Fax, s.jobtitle AS JobTitle,
       p.accountnumber AS PrimaryAccount_AccountId,
       {ORG} AS PrimaryAccount_Organization_OrganizationId,
       CASE s.accountrolecode WHEN 1 THEN 'DecisionMaker' WHEN 2 THEN 'Employee'
            WHEN 3 THEN 'Influencer' END AS PrimaryAccountRole,
       s.address1_line1 AS PrimaryAddressStreet, s.address1_city AS PrimaryAddressCity,
       s.address1_stateorprovince AS PrimaryAddressStateOrProvince,
       s.address1_postalcode AS PrimaryAddressPostalCode,
       s.address1_county AS PrimaryAddressCounty,
       k.code AS PrimaryAddressCountryRegionISOCode
FROM main.contacts s
LEFT JOIN main.accounts p
       ON s.parentcustomeridtype = 'account' AND p.accountid = s.parentcustomerid
LEFT JOIN temp.country k ON k.src = s.address1_country
WHERE s.msdynce_isactivecustomer = 0 AND s.msdynce_iscompanyanaccount = 1 AND {_COUNTRY_OK}
  AND (p.accountnumber IS NULL OR EXISTS (
        SELECT 1 FROM cds.accounts a
        WHERE a.Organization_OrganizationId = {ORG} AND a.AccountId = p.accountnumber))
"""

_CONTACTS_FO = f"""
SELECT {COMPANY}, t.ContactId, t.PrimaryAccount_AccountId, substr(t.FirstName, 1, 25),
       substr(t.MiddleName, 1, 25), substr(t.LastName, 1, 25), t.EmailPrimary, t.PhonePrimary,
       t.Fax, t.PrimaryAddressStreet, substr(t.PrimaryAddressCity, 1, 60),
       substr(t.PrimaryAddressStateOrProvince, 1, 10), substr(t.PrimaryAddressPostalCode, 1, 10),
       substr(t.PrimaryAddressCounty, 1, 10),
       coalesce(nullif(trim(t.PrimaryAddressCountryRegionISOCode), ''), 'USA'),
       t.PrimaryAccountRole, 'Yes'
FROM temp.task t
WHERE t.PrimaryAccount_AccountId IS NOT NULL
  AND EXISTS (SELECT 1 FROM fo.CustomersV2 c
              WHERE c.dataAreaId = {COMPANY} AND c.PartyNumber = t.PrimaryAccount_AccountId)
  AND (t.PrimaryAccountRole IS NULL OR EXISTS (
        SELECT 1 FROM fo.DecisionMakingRoles r
        WHERE r.dataAreaId = {COMPANY} AND r.DecisionMakingRoleCode = t.PrimaryAccountRole))
  AND EXISTS (SELECT 1 FROM fo.AddressCountryRegions r WHERE r.CountryRegionId =
        coalesce(nullif(trim(t.PrimaryAddressCountryRegionISOCode), ''), 'USA'))
"""
_CONTACTS_FO_COLUMNS = (
    "dataAreaId", "ContactPersonPartyNumber", "AssociatedPartyNumber", "FirstName", "MiddleName",
    "LastName", "PrimaryEmailAddress", "PrimaryPhoneNumber", "PrimaryFaxNumber",
    "PrimaryAddressStreet", "PrimaryAddressCity", "PrimaryAddressStateId",
    "PrimaryAddressZipCode", "PrimaryAddressCountyId", "PrimaryAddressCountryRegionISOCode",
    "DecisionMakingRoleCode", "IsContactPersonExternallyMaintained",
)  # fmt: skip

_CUSTOMERS_SOURCE = f"""
SELECT {ORG} AS Organization_OrganizationId, s.msdynce_contactnumber AS AccountId,
       s.firstname AS PersonFirstName, s.middlename AS PersonMiddleName,
       s.lastname AS PersonLastName, s.fullname AS FullName, s.emailaddress1 AS EmailPrimary,
       s.telephone1 AS PhonePrimary, s.fax AS Fax,
       s.address1_line1 AS PrimaryAddressStreet, s.address1_city AS PrimaryAddressCity,
       s.address1_stateorprovince AS PrimaryAddressStateOrProvince,
       s.address1_postalcode AS PrimaryAddressPostalCode,
       s.address1_county AS PrimaryAddressCounty,
       k.code AS PrimaryAddressCountryRegionISOCode, 'Person' AS PartyType
FROM main.contacts s LEFT JOIN temp.country k ON k.src = s.address1_country
WHERE s.msdynce_isactivecustomer = 1 AND {_COUNTRY_OK}
"""

_CUSTOMERS_FO = f"""
SELECT {COMPANY}, AccountId, AccountId, PartyType, substr(PersonFirstName, 1, 25),
       substr(PersonMiddleName, 1, 25), substr(PersonLastName, 1, 25), PhonePrimary,
       EmailPrimary, Fax, PrimaryAddressStreet, substr(PrimaryAddressCity, 1, 60),
       substr(PrimaryAddressStateOrProvince, 1, 10), substr(PrimaryAddressPostalCode, 1, 10),
       substr(PrimaryAddressCounty, 1, 10),
       coalesce(nullif(trim(PrimaryAddressCountryRegionISOCode), ''), 'USA'),
       '10', 'en-us', 'Yes'
FROM temp.task
WHERE nullif(trim(substr(PersonLastName, 1, 25)), '') IS NOT NULL
"""
_CUSTOMERS_FO_COLUMNS = (
    "dataAreaId", "CustomerAccount", "PartyNumber", "PartyType", "PersonFirstName",
    "PersonMiddleName", "PersonLastName", "PrimaryContactPhone", "PrimaryContactEmail",
    "PrimaryContactFax", "AddressStreet", "AddressCity", "AddressState", "AddressZipCode",
    "AddressCounty", "AddressCountryRegionISOCode", "CustomerGroupId", "LanguageId",
    "IsExternallyMaintained",
)  # fmt: skip

#: (name, source SELECT, CDS table, CDS key, leg-2 SELECT, F&O table, its columns, F&O key)
_TASKS = (
    ("Accounts", _ACCOUNTS_SOURCE, "accounts", ("Organization_OrganizationId", "AccountId"),
     _ACCOUNTS_FO, "CustomersV2", _ACCOUNTS_FO_COLUMNS, ("dataAreaId", "CustomerAccount")),
    ("Contacts", _CONTACTS_SOURCE, "contacts", ("Organization_OrganizationId", "ContactId"),
     _CONTACTS_FO, "CDSContactPersons", _CONTACTS_FO_COLUMNS,
     ("dataAreaId", "ContactPersonPartyNumber", "AssociatedPartyNumber")),
    ("ContactToCustomer", _CUSTOMERS_SOURCE, "accounts",
     ("Organization_OrganizationId", "AccountId"),
     _CUSTOMERS_FO, "CustomersV2", _CUSTOMERS_FO_COLUMNS, ("dataAreaId", "CustomerAccount")),
)  # fmt: skip


def _upsert(
    table: str, columns: list[str] | tuple[str, ...], key: tuple[str, ...], select: str
) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    values = [c for c in columns if c not in key]
    assignments = ", ".join(f'"{c}" = excluded."{c}"' for c in values)
    changed = " OR ".join(f'"{c}" IS NOT excluded."{c}"' for c in values)
    return (
        f"INSERT INTO {table} ({names}) {select}\n"
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {assignments} WHERE {changed}"
    )


def _country_table(conn: sqlite3.Connection) -> int:
    """temp.country: each distinct Sales country text, its ISO code, and whether it resolves."""
    conn.execute("CREATE TEMP TABLE country (src TEXT PRIMARY KEY, code TEXT, ok INTEGER)")
    texts = {
        row[0]
        for table in ("accounts", "contacts")
        for row in conn.execute(
            f"SELECT DISTINCT address1_country COLLATE BINARY FROM main.{table}"
        )
        if row[0] is not None
    }
    rows = []
    for text in texts:
        code = None if is_blank(text) else resolve_country(str(text))
        rows.append((text, code, 1 if code is not None or is_blank(text) else 0))
    conn.executemany("INSERT INTO temp.country VALUES (?, ?, ?)", rows)
    return len(rows)


def run_floor(data_dir: Path | str) -> dict[str, Any]:
    """Sync the Sales store in ``data_dir`` into its CDS and F&O stores the floor's way.

    Returns the rows written per task and leg, and the seconds each statement took.
    """
    data = Path(data_dir)
    conn = sqlite3.connect(data / "sales.db", isolation_level=None)
    register_text_functions(conn)
    report: dict[str, Any] = {"tasks": {}}
    try:
        conn.execute(f"ATTACH DATABASE '{data / 'cds.db'}' AS cds")
        conn.execute(f"ATTACH DATABASE '{data / 'finops.db'}' AS fo")
        for schema in ("main", "cds", "fo"):
            conn.execute(f"PRAGMA {schema}.cache_size = -262144")
            conn.execute(f"PRAGMA {schema}.synchronous = NORMAL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA recursive_triggers = OFF")
        started = time.perf_counter()
        report["countries"] = _country_table(conn)
        for name, source, cds_table, cds_key, fo_select, fo_table, fo_columns, fo_key in _TASKS:
            conn.execute("BEGIN IMMEDIATE")
            # the task's leg-1 rows, mapped once and read by both legs
            conn.execute(f"CREATE TEMP TABLE task AS {source}")
            columns = [d[1] for d in conn.execute("PRAGMA temp.table_info(task)")]
            cds_sql = _upsert(
                f"cds.{cds_table}", columns, cds_key, "SELECT * FROM temp.task WHERE true"
            )
            cds_rows = conn.execute(cds_sql).rowcount
            fo_rows = conn.execute(
                _upsert(f"fo.{fo_table}", fo_columns, fo_key, fo_select)
            ).rowcount
            conn.execute("DROP TABLE temp.task")
            conn.execute("COMMIT")
            report["tasks"][name] = {"cds": cds_rows, "finops": fo_rows}
        report["seconds"] = round(time.perf_counter() - started, 3)
    finally:
        conn.close()
    return report


def floor_job(data_dir: str) -> dict[str, Any]:
    """Job: :func:`run_floor` on ``data_dir``."""
    return run_floor(data_dir)
