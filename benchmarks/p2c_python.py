"""The three P2C templates as plain Python functions, for the dlt baseline.

What a dlt user would write to get the rows integrator writes: read Sales rows, keep the ones
the template's filter selects, map them to the CDS row (leg 1) and the F&O row (leg 2), and
leave out the records the stores' rules would refuse (an unknown country, a parent account not
in CDS, a role F&O does not have, a person without a last name, a contact person whose company
is no customer). The checks that need other records (is the parent account in CDS, is the
company an F&O customer) consult :class:`Accepted`, filled while the Accounts template's rows
stream out, since Accounts runs first, as in integrator.
"""

# SQL here is fixed text over the Sales store's own tables.

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integrator.mapping.country import resolve_country
from integrator.mapping.registry import is_blank

__all__ = ["ROLES", "TEMPLATES", "Accepted", "Mapped", "read_sales"]

Row = dict[str, Any]

ORG = "ORG001"
COMPANY = "usmf"
ROLES = {1: "DecisionMaker", 2: "Employee", 3: "Influencer"}
PAGE = 5000


@dataclass
class Accepted:
    """What earlier legs accepted, for the rules that look at other records."""

    cds_accounts: set[str] = field(default_factory=set)
    fo_party_numbers: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    countries: set[str] = field(default_factory=set)


@dataclass
class Mapped:
    """One Sales record's rows: CDS (``None``: refused in leg 1) and F&O (``None``: refused)."""

    cds: Row | None
    finops: Row | None


_COUNTRIES: dict[Any, tuple[bool, str | None]] = {}


def _country(value: Any) -> tuple[bool, str | None]:
    """(resolves, ISO alpha-3) of a Sales country text; blank resolves to no code."""
    found = _COUNTRIES.get(value)
    if found is None:
        if is_blank(value):
            found = (True, None)
        else:
            code = resolve_country(str(value))
            found = (code is not None, code)
        _COUNTRIES[value] = found
    return found


def _cut(value: Any, limit: int) -> Any:
    return value[:limit] if value.__class__ is str and len(value) > limit else value


def _or(value: Any, default: str) -> Any:
    return default if is_blank(value) else value


def _address_cds(s: Row, code: str | None) -> Row:
    return {
        "PrimaryAddressStreet": s["address1_line1"],
        "PrimaryAddressCity": s["address1_city"],
        "PrimaryAddressStateOrProvince": s["address1_stateorprovince"],
        "PrimaryAddressPostalCode": s["address1_postalcode"],
        "PrimaryAddressCounty": s["address1_county"],
        "PrimaryAddressCountryRegionISOCode": code,
    }


def _customer_address(c: Row) -> Row:
    return {
        "AddressStreet": c["PrimaryAddressStreet"],
        "AddressCity": _cut(c["PrimaryAddressCity"], 60),
        "AddressState": _cut(c["PrimaryAddressStateOrProvince"], 10),
        "AddressZipCode": _cut(c["PrimaryAddressPostalCode"], 10),
        "AddressCounty": _cut(c["PrimaryAddressCounty"], 10),
        "AddressCountryRegionISOCode": _or(c["PrimaryAddressCountryRegionISOCode"], "USA"),
    }


def map_account(s: Row, accepted: Accepted) -> Mapped | None:
    """Accounts: Sales account -> CDS account -> F&O customer (organization)."""
    if s["accountnumber"] is None:
        return None
    ok, code = _country(s["address1_country"])
    if not ok:
        return Mapped(None, None)
    cds = {
        "Organization_OrganizationId": ORG,
        "AccountId": s["accountnumber"],
        "OrganizationName": s["name"],
        "PhonePrimary": s["telephone1"],
        "Fax": s["fax"],
        "EmailPrimary": s["emailaddress1"],
        "WebSiteURL": s["websiteurl"],
        **_address_cds(s, code),
        "PartyType": "Organization",
    }
    accepted.cds_accounts.add(cds["AccountId"])
    fo = {
        "dataAreaId": COMPANY,
        "CustomerAccount": cds["AccountId"],
        "PartyNumber": cds["AccountId"],
        "PartyType": cds["PartyType"],
        "OrganizationName": _cut(cds["OrganizationName"], 100),
        "PrimaryContactPhone": cds["PhonePrimary"],
        "PrimaryContactEmail": cds["EmailPrimary"],
        "PrimaryContactFax": cds["Fax"],
        "PrimaryContactURL": cds["WebSiteURL"],
        **_customer_address(cds),
        "CustomerGroupId": "10",
        "SiteId": "1",
        "WarehouseId": "13",
        "LanguageId": "en-us",
        "IsExternallyMaintained": "Yes",
    }
    if is_blank(fo["OrganizationName"]):
        return Mapped(cds, None)
    accepted.fo_party_numbers.add(fo["PartyNumber"])
    return Mapped(cds, fo)


def map_contact(s: Row, accepted: Accepted) -> Mapped | None:
    """Contacts to Contact: Sales contact -> CDS contact -> F&O contact person."""
    if not (s["msdynce_isactivecustomer"] == 0 and s["msdynce_iscompanyanaccount"] == 1):
        return None
    ok, code = _country(s["address1_country"])
    parent = s["parent_accountnumber"]
    if not ok or (parent is not None and parent not in accepted.cds_accounts):
        return Mapped(None, None)
    cds = {
        "Organization_OrganizationId": ORG,
        "ContactId": s["msdynce_contactnumber"],
        "FirstName": s["firstname"],
        "MiddleName": s["middlename"],
        "LastName": s["lastname"],
        "FullName": s["fullname"],
        "EmailPrimary": s["emailaddress1"],
        "PhonePrimary": s["telephone1"],
        "PhoneCell": s["mobilephone"],
        "Fax": s["fax"],
        "JobTitle": s["jobtitle"],
        "PrimaryAccount_AccountId": parent,
        "PrimaryAccountRole": ROLES.get(s["accountrolecode"]),
        **_address_cds(s, code),
        "PrimaryAccount_Organization_OrganizationId": ORG,
    }
    fo = {
        "dataAreaId": COMPANY,
        "ContactPersonPartyNumber": cds["ContactId"],
        "AssociatedPartyNumber": cds["PrimaryAccount_AccountId"],
        "FirstName": _cut(cds["FirstName"], 25),
        "MiddleName": _cut(cds["MiddleName"], 25),
        "LastName": _cut(cds["LastName"], 25),
        "PrimaryEmailAddress": cds["EmailPrimary"],
        "PrimaryPhoneNumber": cds["PhonePrimary"],
        "PrimaryFaxNumber": cds["Fax"],
        "PrimaryAddressStreet": cds["PrimaryAddressStreet"],
        "PrimaryAddressCity": _cut(cds["PrimaryAddressCity"], 60),
        "PrimaryAddressStateId": _cut(cds["PrimaryAddressStateOrProvince"], 10),
        "PrimaryAddressZipCode": _cut(cds["PrimaryAddressPostalCode"], 10),
        "PrimaryAddressCountyId": _cut(cds["PrimaryAddressCounty"], 10),
        "PrimaryAddressCountryRegionISOCode": _or(cds["PrimaryAddressCountryRegionISOCode"], "USA"),
        "DecisionMakingRoleCode": cds["PrimaryAccountRole"],
        "IsContactPersonExternallyMaintained": "Yes",
    }
    refused = (
        fo["AssociatedPartyNumber"] is None
        or fo["AssociatedPartyNumber"] not in accepted.fo_party_numbers
        or (fo["DecisionMakingRoleCode"] is not None
            and fo["DecisionMakingRoleCode"] not in accepted.roles)
        or fo["PrimaryAddressCountryRegionISOCode"] not in accepted.countries
    )  # fmt: skip
    return Mapped(cds, None if refused else fo)


def map_customer(s: Row, accepted: Accepted) -> Mapped | None:
    """Contacts to Customer: Sales contact -> CDS account -> F&O customer (person)."""
    if s["msdynce_isactivecustomer"] != 1:
        return None
    ok, code = _country(s["address1_country"])
    if not ok:
        return Mapped(None, None)
    cds = {
        "Organization_OrganizationId": ORG,
        "AccountId": s["msdynce_contactnumber"],
        "PersonFirstName": s["firstname"],
        "PersonMiddleName": s["middlename"],
        "PersonLastName": s["lastname"],
        "FullName": s["fullname"],
        "EmailPrimary": s["emailaddress1"],
        "PhonePrimary": s["telephone1"],
        "Fax": s["fax"],
        **_address_cds(s, code),
        "PartyType": "Person",
    }
    fo = {
        "dataAreaId": COMPANY,
        "CustomerAccount": cds["AccountId"],
        "PartyNumber": cds["AccountId"],
        "PartyType": cds["PartyType"],
        "PersonFirstName": _cut(cds["PersonFirstName"], 25),
        "PersonMiddleName": _cut(cds["PersonMiddleName"], 25),
        "PersonLastName": _cut(cds["PersonLastName"], 25),
        "PrimaryContactPhone": cds["PhonePrimary"],
        "PrimaryContactEmail": cds["EmailPrimary"],
        "PrimaryContactFax": cds["Fax"],
        **_customer_address(cds),
        "CustomerGroupId": "10",
        "LanguageId": "en-us",
        "IsExternallyMaintained": "Yes",
    }
    return Mapped(cds, None if is_blank(fo["PersonLastName"]) else fo)


_ACCOUNTS_SQL = "SELECT * FROM accounts ORDER BY rowid"
_CONTACTS_SQL = (
    "SELECT c.*, p.accountnumber AS parent_accountnumber FROM contacts c"
    " LEFT JOIN accounts p ON c.parentcustomeridtype = 'account'"
    " AND p.accountid = c.parentcustomerid ORDER BY c.rowid"
)

#: template -> (Sales query, mapping function, CDS table and key, F&O table and key)
TEMPLATES = {
    "Accounts": (
        _ACCOUNTS_SQL, map_account,
        ("cds_accounts", ("Organization_OrganizationId", "AccountId")),
        ("fo_customers", ("dataAreaId", "CustomerAccount")),
    ),
    "Contacts": (
        _CONTACTS_SQL, map_contact,
        ("cds_contacts", ("Organization_OrganizationId", "ContactId")),
        ("fo_contact_persons", ("dataAreaId", "ContactPersonPartyNumber", "AssociatedPartyNumber")),
    ),
    "ContactToCustomer": (
        _CONTACTS_SQL, map_customer,
        ("cds_accounts", ("Organization_OrganizationId", "AccountId")),
        ("fo_customers", ("dataAreaId", "CustomerAccount")),
    ),
}  # fmt: skip


def read_sales(sales_db: Path | str, query: str) -> Iterator[list[Row]]:
    """Pages of Sales rows as dicts."""
    conn = sqlite3.connect(f"file:{sales_db}?mode=ro", uri=True)
    try:
        cursor = conn.execute(query)
        names = [d[0] for d in cursor.description]
        while rows := cursor.fetchmany(PAGE):
            yield [dict(zip(names, row, strict=True)) for row in rows]
    finally:
        conn.close()


def reference(finops_db: Path | str) -> Accepted:
    """An :class:`Accepted` with F&O's decision-making roles and countries loaded."""
    conn = sqlite3.connect(f"file:{finops_db}?mode=ro", uri=True)
    try:
        roles = {
            r[0]
            for r in conn.execute(
                "SELECT DecisionMakingRoleCode FROM DecisionMakingRoles WHERE dataAreaId = ?",
                (COMPANY,),
            )
        }
        countries = {
            r[0] for r in conn.execute("SELECT CountryRegionId FROM AddressCountryRegions")
        }
    finally:
        conn.close()
    return Accepted(roles=roles, countries=countries)
