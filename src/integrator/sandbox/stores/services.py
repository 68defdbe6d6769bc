"""The descriptions of the three systems the sandbox serves: Sales, CDS and F&O (SPEC §2-§4).

Storage conventions (shared by the stores and the HTTP layer):

- one SQLite table per entity set, named ``EntitySet.table``; column names are the OData names;
- ``string``/``guid``/``enum``/``datetime`` are TEXT compared case-insensitively (``COLLATE
  NOCASE``, as Dynamics' SQL Server collation does), ``integer`` INTEGER, ``decimal`` REAL,
  ``boolean`` INTEGER 0/1; datetimes are ISO-8601 UTC with milliseconds and ``Z``;
- a lookup is stored in two columns that are *not* listed in ``EntitySet.columns``: the target's
  id in ``Lookup.column`` (``parentcustomerid``) and the target's entity type in
  ``Lookup.type_column`` (``parentcustomeridtype``: ``account`` or ``contact``);
- F&O ``dataAreaId`` is stored lower-case (``usmf``) whatever case it was written in.
"""

from __future__ import annotations

from integrator.sandbox.schema import Column, EntitySet, Service
from integrator.sandbox.stores._columns import (
    PARTY_TYPES,
    address1,
    boolean,
    customer_lookup,
    decimal,
    enum,
    guid,
    integer,
    system_columns,
    text,
)
from integrator.sandbox.stores._finops_service import FINOPS

__all__ = ["CDS", "FINOPS", "SALES", "SERVICES"]

#: Dataverse state: 0 active (what a new row gets), 1 inactive
STATECODE = Column("statecode", "integer", options=(0, 1), default=0)


def _sales_document(name: str, entity_type: str, key: str, number: str) -> EntitySet:
    return EntitySet(
        name=name,
        entity_type=entity_type,
        table=name,
        key=(key,),
        columns=(
            guid(key),
            text("name", 300),
            text(number, 100),
            decimal("totalamount"),
            STATECODE,
            *system_columns(),
        ),
        lookups=(customer_lookup("customerid"),),
    )


SALES = Service(
    name="sales",
    base_path="/sales/api/data/v9.2/",
    flavor="dataverse",
    database="sales.db",
    max_page_size=5000,
    namespace="Microsoft.Dynamics.CRM",
    entity_sets=(
        EntitySet(
            name="accounts",
            entity_type="account",
            table="accounts",
            key=("accountid",),
            alternate_keys=(("accountnumber",),),
            change_tracking=True,
            columns=(
                guid("accountid"),
                text("name", 160),
                text("accountnumber", 20),
                text("telephone1", 50),
                text("fax", 50),
                text("emailaddress1", 100),
                text("websiteurl", 200),
                *address1(),
                STATECODE,
                *system_columns(),
            ),
        ),
        EntitySet(
            name="contacts",
            entity_type="contact",
            table="contacts",
            key=("contactid",),
            alternate_keys=(("msdynce_contactnumber",),),
            change_tracking=True,
            columns=(
                guid("contactid"),
                text("firstname", 50),
                text("middlename", 50),
                text("lastname", 50),
                text("fullname", 160, read_only=True),
                text("emailaddress1", 100),
                text("telephone1", 50),
                text("mobilephone", 50),
                text("fax", 50),
                text("jobtitle", 100),
                integer("accountrolecode", options=(1, 2, 3)),
                *address1(),
                text("msdynce_contactnumber", 100),
                boolean("msdynce_isactivecustomer"),
                boolean("msdynce_iscompanyanaccount"),
                STATECODE,
                *system_columns(),
            ),
            lookups=(customer_lookup("parentcustomerid"),),
        ),
        _sales_document("quotes", "quote", "quoteid", "quotenumber"),
        _sales_document("salesorders", "salesorder", "salesorderid", "ordernumber"),
        _sales_document("invoices", "invoice", "invoiceid", "invoicenumber"),
    ),
)

ORG = "Organization_OrganizationId"


def _cds_address() -> tuple[Column, ...]:
    return (
        text("PrimaryAddressStreet", 250),
        text("PrimaryAddressCity", 80),
        text("PrimaryAddressStateOrProvince", 50),
        text("PrimaryAddressPostalCode", 20),
        text("PrimaryAddressCounty", 50),
        text("PrimaryAddressCountryRegionISOCode", 10),
    )


CDS = Service(
    name="cds",
    base_path="/cds/api/data/v9.2/",
    flavor="dataverse",
    database="cds.db",
    max_page_size=5000,
    namespace="Microsoft.Dynamics.CRM",
    entity_sets=(
        EntitySet(
            name="organizations",
            entity_type="organization",
            table="organizations",
            key=("OrganizationId",),
            columns=(
                text("OrganizationId", 20, required=True),
                text("Name", 160),
                *system_columns(),
            ),
        ),
        EntitySet(
            name="accounts",
            entity_type="account",
            table="accounts",
            key=(ORG, "AccountId"),
            change_tracking=True,
            columns=(
                text(ORG, 20, required=True),
                text("AccountId", 100, required=True),
                text("OrganizationName", 160),
                enum("PartyType", "PartyType", PARTY_TYPES),
                text("FullName", 160),
                text("PersonFirstName", 50),
                text("PersonMiddleName", 50),
                text("PersonLastName", 50),
                text("PhonePrimary", 50),
                text("Fax", 50),
                text("EmailPrimary", 100),
                text("WebSiteURL", 200),
                *_cds_address(),
                *system_columns(),
            ),
        ),
        EntitySet(
            name="contacts",
            entity_type="contact",
            table="contacts",
            key=(ORG, "ContactId"),
            change_tracking=True,
            columns=(
                text(ORG, 20, required=True),
                text("ContactId", 100, required=True),
                text("FirstName", 50),
                text("MiddleName", 50),
                text("LastName", 50),
                text("FullName", 160),
                text("EmailPrimary", 100),
                text("PhonePrimary", 50),
                text("PhoneCell", 50),
                text("Fax", 50),
                text("JobTitle", 100),
                text("PrimaryAccount_AccountId", 100),
                text("PrimaryAccount_Organization_OrganizationId", 20),
                enum(
                    "PrimaryAccountRole",
                    "PrimaryAccountRole",
                    ("DecisionMaker", "Employee", "Influencer"),
                ),
                *_cds_address(),
                *system_columns(),
            ),
        ),
    ),
)

SERVICES: dict[str, Service] = {s.name: s for s in (SALES, CDS, FINOPS)}
