"""The P2C entities of SPEC §4 as EntityInfo data: what the connectors' ``describe`` returns.

A ``describe`` built from these is data, not a mock: validation only reads metadata.
"""

from __future__ import annotations

from integrator.connectors.base import EntityInfo, FieldInfo, FieldType


def _f(name: str, kind: FieldType = "string", length: int | None = 100, **kw: object) -> FieldInfo:
    return FieldInfo(name, kind, max_length=length if kind == "string" else None, **kw)  # type: ignore[arg-type]


def _entity(name: str, key: tuple[str, ...], *fields: FieldInfo) -> EntityInfo:
    return EntityInfo(name, {f.name: f for f in fields}, key)


_ADDRESS1 = [
    _f(n)
    for n in (
        "address1_line1",
        "address1_city",
        "address1_stateorprovince",
        "address1_postalcode",
        "address1_county",
        "address1_country",
    )
]
_SYSTEM = [
    _f("createdon", "datetime", read_only=True),
    _f("modifiedon", "datetime", read_only=True),
]
_CDS_ADDRESS = [
    _f(n)
    for n in (
        "PrimaryAddressStreet",
        "PrimaryAddressCity",
        "PrimaryAddressStateOrProvince",
        "PrimaryAddressPostalCode",
        "PrimaryAddressCounty",
    )
] + [_f("PrimaryAddressCountryRegionISOCode", length=10)]
_ORG = _f("Organization_OrganizationId", length=20, required=True)
_NO_YES = ("No", "Yes")

SALES = {
    "accounts": _entity(
        "accounts",
        ("accountid",),
        _f("accountid", "guid", required=True),
        *(_f(n) for n in ("name", "accountnumber", "telephone1", "fax", "emailaddress1")),
        _f("websiteurl"),
        *_ADDRESS1,
        _f("statecode", "integer"),
        *_SYSTEM,
    ),
    "contacts": _entity(
        "contacts",
        ("contactid",),
        _f("contactid", "guid", required=True),
        *(_f(n, length=50) for n in ("firstname", "middlename", "lastname")),
        _f("fullname", length=160, read_only=True),
        *(_f(n) for n in ("emailaddress1", "telephone1", "mobilephone", "fax", "jobtitle")),
        _f("accountrolecode", "integer"),
        _f("parentcustomerid", "lookup", lookup_targets=("account", "contact")),
        *_ADDRESS1,
        _f("msdynce_contactnumber"),
        _f("msdynce_isactivecustomer", "boolean"),
        _f("msdynce_iscompanyanaccount", "boolean"),
        *_SYSTEM,
    ),
}

CDS = {
    "accounts": _entity(
        "accounts",
        ("Organization_OrganizationId", "AccountId"),
        _ORG,
        _f("AccountId", required=True),
        _f("OrganizationName", length=160),
        _f("PartyType", "enum", enum_values=("Organization", "Person")),
        _f("FullName", length=160),
        *(_f(n, length=50) for n in ("PersonFirstName", "PersonMiddleName", "PersonLastName")),
        *(_f(n) for n in ("PhonePrimary", "Fax", "EmailPrimary", "WebSiteURL")),
        *_CDS_ADDRESS,
    ),
    "contacts": _entity(
        "contacts",
        ("Organization_OrganizationId", "ContactId"),
        _ORG,
        _f("ContactId", required=True),
        *(_f(n, length=50) for n in ("FirstName", "MiddleName", "LastName")),
        _f("FullName", length=160),
        *(_f(n) for n in ("EmailPrimary", "PhonePrimary", "PhoneCell", "Fax", "JobTitle")),
        _f("PrimaryAccount_AccountId"),
        _f("PrimaryAccount_Organization_OrganizationId", length=20),
        _f("PrimaryAccountRole", "enum", enum_values=("DecisionMaker", "Employee", "Influencer")),
        *_CDS_ADDRESS,
    ),
}

FINOPS = {
    "CustomersV2": _entity(
        "CustomersV2",
        ("dataAreaId", "CustomerAccount"),
        _f("dataAreaId", length=4, required=True),
        _f("CustomerAccount", length=20, required=True),
        _f("PartyNumber", length=40),
        _f("PartyType", "enum", enum_values=("Organization", "Person")),
        _f("OrganizationName"),
        *(_f(n, length=25) for n in ("PersonFirstName", "PersonMiddleName", "PersonLastName")),
        _f("CustomerGroupId", length=10, required=True),
        _f("AddressCountryRegionISOCode", length=10, required=True),
        _f("AddressStreet", length=250),
        _f("AddressCity", length=60),
        *(_f(n, length=10) for n in ("AddressState", "AddressZipCode", "AddressCounty")),
        *(
            _f(n, length=255)
            for n in (
                "PrimaryContactPhone",
                "PrimaryContactEmail",
                "PrimaryContactFax",
                "PrimaryContactURL",
            )
        ),
        *(_f(n, length=10) for n in ("SiteId", "WarehouseId")),
        _f("LanguageId", length=7),
        _f("IsExternallyMaintained", "enum", enum_values=_NO_YES),
    ),
    "CDSContactPersons": _entity(
        "CDSContactPersons",
        ("dataAreaId", "ContactPersonPartyNumber", "AssociatedPartyNumber"),
        _f("dataAreaId", length=4, required=True),
        _f("ContactPersonPartyNumber", length=40, required=True),
        _f("AssociatedPartyNumber", length=40, required=True),
        *(_f(n, length=25) for n in ("FirstName", "MiddleName", "LastName")),
        *(
            _f(n, length=255)
            for n in ("PrimaryEmailAddress", "PrimaryPhoneNumber", "PrimaryFaxNumber")
        ),
        _f("PrimaryAddressStreet", length=250),
        _f("PrimaryAddressCity", length=60),
        *(
            _f(n, length=10)
            for n in (
                "PrimaryAddressStateId",
                "PrimaryAddressZipCode",
                "PrimaryAddressCountyId",
                "PrimaryAddressCountryRegionISOCode",
            )
        ),
        _f("DecisionMakingRoleCode", length=20),
        _f("IsContactPersonExternallyMaintained", "enum", enum_values=_NO_YES),
    ),
}

SYSTEMS = {"sales": SALES, "cds": CDS, "finops": FINOPS}


def describe(system: str, entity: str) -> EntityInfo | None:
    """What the P2C systems say about ``entity``; ``None`` when it does not exist."""
    return SYSTEMS.get(system, {}).get(entity)
