"""The F&O description: customers, contact persons and reference data (SPEC §4)."""

from __future__ import annotations

from integrator.sandbox.schema import Column, EntitySet, Service
from integrator.sandbox.stores._columns import NO_YES, PARTY_TYPES, enum, text

__all__ = ["FINOPS"]

DATA_AREA = "dataAreaId"


def _company_set(
    name: str, entity_type: str, key: tuple[str, ...], columns: tuple[Column, ...]
) -> EntitySet:
    return EntitySet(
        name=name,
        entity_type=entity_type,
        table=name,
        key=(DATA_AREA, *key),
        columns=(text(DATA_AREA, 4, required=True), *columns),
        company_field=DATA_AREA,
    )


FINOPS = Service(
    name="finops",
    base_path="/finops/data/",
    flavor="finops",
    database="finops.db",
    max_page_size=10000,
    namespace="Microsoft.Dynamics.DataEntities",
    default_company="usmf",
    entity_sets=(
        _company_set(
            "CustomersV2",
            "CustomerV2",
            ("CustomerAccount",),
            (
                text("CustomerAccount", 20, required=True),
                text("PartyNumber", 40),
                enum("PartyType", "PartyType", PARTY_TYPES, default="Organization"),
                text("OrganizationName", 100),
                text("PersonFirstName", 25),
                text("PersonMiddleName", 25),
                text("PersonLastName", 25),
                text("CustomerGroupId", 10, required=True),
                text("AddressCountryRegionISOCode", 10, required=True),
                text("AddressStreet", 250),
                text("AddressCity", 60),
                text("AddressState", 10),
                text("AddressZipCode", 10),
                text("AddressCounty", 10),
                text("PrimaryContactPhone", 255),
                text("PrimaryContactEmail", 255),
                text("PrimaryContactFax", 255),
                text("PrimaryContactURL", 255),
                text("SiteId", 10),
                text("WarehouseId", 10),
                text("LanguageId", 7),
                enum("IsExternallyMaintained", "NoYes", NO_YES, default="No"),
            ),
        ),
        _company_set(
            "CDSContactPersons",
            "CDSContactPerson",
            ("ContactPersonPartyNumber", "AssociatedPartyNumber"),
            (
                text("ContactPersonPartyNumber", 40, required=True),
                text("AssociatedPartyNumber", 40, required=True),
                text("FirstName", 25),
                text("MiddleName", 25),
                text("LastName", 25),
                text("PrimaryEmailAddress", 255),
                text("PrimaryPhoneNumber", 255),
                text("PrimaryFaxNumber", 255),
                text("PrimaryAddressStreet", 250),
                text("PrimaryAddressCity", 60),
                text("PrimaryAddressStateId", 10),
                text("PrimaryAddressZipCode", 10),
                text("PrimaryAddressCountyId", 10),
                text("PrimaryAddressCountryRegionISOCode", 10),
                text("DecisionMakingRoleCode", 20),
                enum("IsContactPersonExternallyMaintained", "NoYes", NO_YES, default="No"),
            ),
        ),
        EntitySet(
            name="LegalEntities",
            entity_type="LegalEntity",
            table="LegalEntities",
            key=("LegalEntityId",),
            columns=(text("LegalEntityId", 4, required=True), text("Name", 100)),
        ),
        _company_set(
            "CustomerGroups",
            "CustomerGroup",
            ("CustomerGroupId",),
            (text("CustomerGroupId", 10, required=True), text("Description", 60)),
        ),
        EntitySet(
            name="AddressCountryRegions",
            entity_type="AddressCountryRegion",
            table="AddressCountryRegions",
            key=("CountryRegionId",),
            columns=(
                text("CountryRegionId", 10, required=True),
                text("ISOCode", 2),
                text("ShortName", 100),
                text("LongName", 200),
            ),
        ),
        EntitySet(
            name="Languages",
            entity_type="Language",
            table="Languages",
            key=("LanguageId",),
            columns=(text("LanguageId", 7, required=True), text("Description", 60)),
        ),
        _company_set(
            "Sites",
            "Site",
            ("SiteId",),
            (text("SiteId", 10, required=True), text("SiteName", 60)),
        ),
        _company_set(
            "Warehouses",
            "Warehouse",
            ("WarehouseId",),
            (
                text("WarehouseId", 10, required=True),
                text("WarehouseName", 60),
                text("OperationalSiteId", 10, required=True),
            ),
        ),
        _company_set(
            "DecisionMakingRoles",
            "DecisionMakingRole",
            ("DecisionMakingRoleCode",),
            (text("DecisionMakingRoleCode", 20, required=True), text("Description", 60)),
        ),
    ),
)
