"""The shipped P2C templates load and say what SPEC §2 says, row by row and default by default."""

from __future__ import annotations

from typing import Any

import pytest

from integrator.errors import ConfigError
from integrator.mapping import MappingRow, compile_mapping
from integrator.templates import Template, list_templates, load_template
from tests.config.p2c_metadata import describe  # tests/config: the P2C entities as EntityInfo data

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
CUSTOMERS = "Contacts to Customer (Sales to Fin and Ops)"


def rows_by_destination(rows: tuple[MappingRow, ...] | None) -> dict[str, tuple[Any, ...]]:
    """destination → (source, transform specs as plain dicts)."""
    assert rows is not None
    return {
        r.destination: (r.source, [{"type": t.type, **t.params} for t in r.transforms])
        for r in rows
    }


def default(value: str) -> list[dict[str, Any]]:
    return [{"type": "Default", "value": value}]


def test_six_shipped_templates_are_listed_read_only_the_seeds_first() -> None:
    entries = list_templates()
    assert [e.name for e in entries] == [
        ACCOUNTS,
        CONTACTS,
        CUSTOMERS,
        f"{ACCOUNTS} - Direct",
        f"{CONTACTS} - Direct",
        f"{CUSTOMERS} - Direct",
    ]
    assert all(e.shipped and e.read_only and not e.problems for e in entries)


@pytest.mark.parametrize(
    ("name", "task", "entities", "source_filter", "prior"),
    [
        (
            ACCOUNTS,
            "Accounts",
            ("accounts", "accounts", "CustomersV2"),
            "accountnumber ne null",
            (),
        ),
        (
            CONTACTS,
            "Contacts",
            ("contacts", "contacts", "CDSContactPersons"),
            "msdynce_isactivecustomer eq false and msdynce_iscompanyanaccount eq true",
            (ACCOUNTS,),
        ),
        (
            CUSTOMERS,
            "ContactToCustomer",
            ("contacts", "accounts", "CustomersV2"),
            "msdynce_isactivecustomer eq true",
            (ACCOUNTS,),
        ),
    ],
)
def test_template_tasks_entities_filters_and_prerequisites(
    name: str, task: str, entities: tuple[str, str, str], source_filter: str, prior: tuple[str]
) -> None:
    template = load_template(name)
    assert [t.name for t in template.tasks] == [task]
    only = template.tasks[0]
    assert (only.source_entity, only.cds_entity, only.destination_entity) == entities
    assert only.source_filter == source_filter
    assert template.required_prior == prior
    assert [leg.title for leg in only.legs("sales", "finops")] == [
        "Source → CDS",
        "CDS → Destination",
    ]


def test_accounts_mapping_matches_spec() -> None:
    task = load_template(ACCOUNTS).tasks[0]
    leg1 = rows_by_destination(task.source_to_cds)
    assert {d: s for d, (s, _) in leg1.items()} == {
        "AccountId": "accountnumber",
        "OrganizationName": "name",
        "PhonePrimary": "telephone1",
        "Fax": "fax",
        "EmailPrimary": "emailaddress1",
        "WebSiteURL": "websiteurl",
        "PrimaryAddressStreet": "address1_line1",
        "PrimaryAddressCity": "address1_city",
        "PrimaryAddressStateOrProvince": "address1_stateorprovince",
        "PrimaryAddressPostalCode": "address1_postalcode",
        "PrimaryAddressCounty": "address1_county",
        "PrimaryAddressCountryRegionISOCode": "address1_country",
        "PartyType": None,
        "Organization_OrganizationId": None,
    }
    assert leg1["PrimaryAddressCountryRegionISOCode"][1] == [{"type": "CountryRegionCode"}]
    assert leg1["PartyType"][1] == default("Organization")
    assert leg1["Organization_OrganizationId"][1] == default("ORG001")

    leg2 = rows_by_destination(task.cds_to_destination)
    assert {d: s for d, (s, _) in leg2.items() if s} == {
        "CustomerAccount": "AccountId",
        "PartyNumber": "AccountId",
        "PartyType": "PartyType",
        "OrganizationName": "OrganizationName",
        "PrimaryContactPhone": "PhonePrimary",
        "PrimaryContactEmail": "EmailPrimary",
        "PrimaryContactFax": "Fax",
        "PrimaryContactURL": "WebSiteURL",
        "AddressStreet": "PrimaryAddressStreet",
        "AddressCity": "PrimaryAddressCity",
        "AddressState": "PrimaryAddressStateOrProvince",
        "AddressZipCode": "PrimaryAddressPostalCode",
        "AddressCounty": "PrimaryAddressCounty",
        "AddressCountryRegionISOCode": "PrimaryAddressCountryRegionISOCode",
    }
    assert leg2["AddressCountryRegionISOCode"][1] == default("USA")
    assert {d: t for d, (s, t) in leg2.items() if s is None} == {
        "CustomerGroupId": default("10"),
        "SiteId": default("1"),
        "WarehouseId": default("13"),
        "LanguageId": default("en-us"),
        "IsExternallyMaintained": default("Yes"),
    }
    assert "dataAreaId" not in leg2  # from the organization mapping
    assert task.keys.destination == ("dataAreaId", "CustomerAccount")


def test_contacts_to_contact_mapping_matches_spec() -> None:
    task = load_template(CONTACTS).tasks[0]
    leg1 = rows_by_destination(task.source_to_cds)
    expected_sources = {
        "ContactId": "msdynce_contactnumber",
        "FirstName": "firstname",
        "MiddleName": "middlename",
        "LastName": "lastname",
        "FullName": "fullname",
        "EmailPrimary": "emailaddress1",
        "PhonePrimary": "telephone1",
        "PhoneCell": "mobilephone",
        "Fax": "fax",
        "JobTitle": "jobtitle",
        "PrimaryAccount_AccountId": "parentcustomerid.accountnumber",
        "PrimaryAccountRole": "accountrolecode",
        "PrimaryAddressStreet": "address1_line1",
        "PrimaryAddressCity": "address1_city",
        "PrimaryAddressStateOrProvince": "address1_stateorprovince",
        "PrimaryAddressPostalCode": "address1_postalcode",
        "PrimaryAddressCounty": "address1_county",
        "PrimaryAddressCountryRegionISOCode": "address1_country",
        "Organization_OrganizationId": None,
        "PrimaryAccount_Organization_OrganizationId": None,
    }
    assert {d: s for d, (s, _) in leg1.items()} == expected_sources
    assert leg1["PrimaryAccountRole"][1] == [
        {"type": "ValueMap", "map": {"1": "DecisionMaker", "2": "Employee", "3": "Influencer"}}
    ]
    assert leg1["Organization_OrganizationId"][1] == default("ORG001")
    assert leg1["PrimaryAccount_Organization_OrganizationId"][1] == default("ORG001")

    leg2 = rows_by_destination(task.cds_to_destination)
    assert leg2["ContactPersonPartyNumber"][0] == "ContactId"
    assert leg2["AssociatedPartyNumber"][0] == "PrimaryAccount_AccountId"
    assert [leg2[n][0] for n in ("FirstName", "MiddleName", "LastName")] == [
        "FirstName",
        "MiddleName",
        "LastName",
    ]
    assert leg2["PrimaryEmailAddress"][0] == "EmailPrimary"
    assert leg2["PrimaryPhoneNumber"][0] == "PhonePrimary"
    assert leg2["PrimaryFaxNumber"][0] == "Fax"
    assert [
        leg2[n][0]
        for n in (
            "PrimaryAddressStreet",
            "PrimaryAddressCity",
            "PrimaryAddressStateId",
            "PrimaryAddressZipCode",
            "PrimaryAddressCountyId",
        )
    ] == [
        "PrimaryAddressStreet",
        "PrimaryAddressCity",
        "PrimaryAddressStateOrProvince",
        "PrimaryAddressPostalCode",
        "PrimaryAddressCounty",
    ]
    assert leg2["PrimaryAddressCountryRegionISOCode"] == (
        "PrimaryAddressCountryRegionISOCode",
        default("USA"),
    )
    assert leg2["DecisionMakingRoleCode"] == ("PrimaryAccountRole", [])
    assert leg2["IsContactPersonExternallyMaintained"] == (None, default("Yes"))


def test_contacts_to_customer_mapping_matches_spec() -> None:
    task = load_template(CUSTOMERS).tasks[0]
    leg1 = rows_by_destination(task.source_to_cds)
    assert leg1["AccountId"][0] == "msdynce_contactnumber"
    assert [leg1[n][0] for n in ("PersonFirstName", "PersonMiddleName", "PersonLastName")] == [
        "firstname",
        "middlename",
        "lastname",
    ]
    assert leg1["FullName"][0] == "fullname"
    assert leg1["PartyType"] == (None, default("Person"))
    assert leg1["Organization_OrganizationId"] == (None, default("ORG001"))
    assert leg1["PrimaryAddressCountryRegionISOCode"][1] == [{"type": "CountryRegionCode"}]

    leg2 = rows_by_destination(task.cds_to_destination)
    assert "OrganizationName" not in leg2
    assert [leg2[n][0] for n in ("PersonFirstName", "PersonMiddleName", "PersonLastName")] == [
        "PersonFirstName",
        "PersonMiddleName",
        "PersonLastName",
    ]
    assert "SiteId" not in leg2 and "WarehouseId" not in leg2
    assert leg2["CustomerGroupId"] == (None, default("10"))
    assert leg2["LanguageId"] == (None, default("en-us"))
    assert leg2["AddressCountryRegionISOCode"][1] == default("USA")
    assert leg2["IsExternallyMaintained"] == (None, default("Yes"))


def _run_legs(template: Template, record: dict[str, Any]) -> list[Any]:
    """Map ``record`` through each leg, as the engine does, returning each leg's output."""
    task = template.tasks[0]
    outputs: list[Any] = []
    batch = [record]
    for leg in task.legs(template.source_system, template.destination_system):
        destination = describe(leg.to_system, leg.to_entity)
        assert destination is not None
        mapped = compile_mapping(leg.rows, destination).apply(batch)
        outputs.append(mapped)
        batch = mapped.records
    return outputs


def test_golden_contact_to_contact_person() -> None:
    sales_contact = {
        "msdynce_contactnumber": "CON-01000-BVRCPS",
        "firstname": "Jürgen",
        "middlename": None,
        "lastname": "Großmann-Schwarzenbergerhausen",
        "fullname": "Jürgen Großmann-Schwarzenbergerhausen",
        "emailaddress1": "jg@example.de",
        "telephone1": "+49 30 1234",
        "mobilephone": None,
        "fax": None,
        "jobtitle": "Einkauf",
        "parentcustomerid.accountnumber": "ACC-01000-XYZ123",
        "accountrolecode": 3,
        "address1_line1": "Unter den Linden 1",
        "address1_city": "Berlin",
        "address1_stateorprovince": "BE",
        "address1_postalcode": "10117",
        "address1_county": None,
        "address1_country": "Deutschland",
    }
    leg1, leg2 = _run_legs(load_template(CONTACTS), sales_contact)
    assert leg1.errors == []
    assert leg1.records[0]["PrimaryAccountRole"] == "Influencer"
    assert leg1.records[0]["PrimaryAddressCountryRegionISOCode"] == "DEU"
    assert leg1.records[0]["Organization_OrganizationId"] == "ORG001"
    assert leg2.errors == []
    assert leg2.records == [
        {
            "ContactPersonPartyNumber": "CON-01000-BVRCPS",
            "AssociatedPartyNumber": "ACC-01000-XYZ123",
            "FirstName": "Jürgen",
            "MiddleName": None,
            "LastName": "Großmann-Schwarzenbergerh",
            "PrimaryEmailAddress": "jg@example.de",
            "PrimaryPhoneNumber": "+49 30 1234",
            "PrimaryFaxNumber": None,
            "PrimaryAddressStreet": "Unter den Linden 1",
            "PrimaryAddressCity": "Berlin",
            "PrimaryAddressStateId": "BE",
            "PrimaryAddressZipCode": "10117",
            "PrimaryAddressCountyId": None,
            "PrimaryAddressCountryRegionISOCode": "DEU",
            "DecisionMakingRoleCode": "Influencer",
            "IsContactPersonExternallyMaintained": "Yes",
        }
    ]


def test_golden_account_with_blank_and_unknown_country() -> None:
    base = {"accountnumber": "ACC-1", "name": "Contoso", "address1_country": None}
    leg1, leg2 = _run_legs(load_template(ACCOUNTS), base)
    assert leg2.records[0]["AddressCountryRegionISOCode"] == "USA"
    assert leg2.records[0]["CustomerGroupId"] == "10"
    assert (leg2.records[0]["SiteId"], leg2.records[0]["WarehouseId"]) == ("1", "13")

    leg1, _ = _run_legs(load_template(ACCOUNTS), {**base, "address1_country": "Narnia"})
    assert leg1.records == []
    assert [(e.field, e.message[:40]) for e in leg1.errors] == [
        ("PrimaryAddressCountryRegionISOCode", "address1_country 'Narnia' is not a count")
    ]


def test_unknown_template_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r'no template named "Nope" \(known: "Accounts'):
        load_template("Nope")
