"""SPEC §4 rules hold for plain SQL writes, and explain_violation names field and value."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from integrator.sandbox.stores import SandboxStore, Violation, explain_violation


def insert(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    cols = ", ".join(f'"{c}"' for c in row)
    conn.execute(
        f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values())
    )


CUSTOMER = {
    "dataAreaId": "USMF",
    "CustomerAccount": "C1",
    "PartyNumber": "P1",
    "PartyType": "Organization",
    "OrganizationName": "Contoso",
    "CustomerGroupId": "10",
    "AddressCountryRegionISOCode": "USA",
}
CONTACT_PERSON = {
    "dataAreaId": "usmf",
    "ContactPersonPartyNumber": "CP1",
    "AssociatedPartyNumber": "P1",
    "LastName": "Smith",
}
TOO_LONG = "x" * 101
MISSING = "6f1c1d9e-0000-4000-8000-000000000000"

# (service, entity set, base row, changes, trigger text, explained message)
CASES = [
    ("finops", "CustomersV2", CUSTOMER, {"CustomerGroupId": None},
     "CustomerGroupId is required", "CustomerGroupId is required"),
    ("finops", "CustomersV2", CUSTOMER, {"CustomerGroupId": " "},
     "CustomerGroupId is required", "CustomerGroupId is required"),
    ("finops", "CustomersV2", CUSTOMER, {"CustomerGroupId": "99"},
     "CustomerGroupId does not exist in company",
     "CustomerGroupId '99' does not exist in company USMF"),
    ("finops", "CustomersV2", CUSTOMER, {"AddressCountryRegionISOCode": None},
     "AddressCountryRegionISOCode is required", "AddressCountryRegionISOCode is required"),
    ("finops", "CustomersV2", CUSTOMER, {"AddressCountryRegionISOCode": "United States"},
     "AddressCountryRegionISOCode does not exist",
     "AddressCountryRegionISOCode 'United States' does not exist"),
    ("finops", "CustomersV2", CUSTOMER, {"LanguageId": "xx-yy"},
     "LanguageId does not exist", "LanguageId 'xx-yy' does not exist"),
    ("finops", "CustomersV2", CUSTOMER, {"SiteId": "9"},
     "SiteId does not exist in company", "SiteId '9' does not exist in company USMF"),
    ("finops", "CustomersV2", CUSTOMER, {"SiteId": "1", "WarehouseId": "21"},
     "WarehouseId does not exist at the site",
     "WarehouseId '21' does not exist at site 1 in company USMF"),
    ("finops", "CustomersV2", CUSTOMER, {"WarehouseId": "99"},
     "WarehouseId does not exist in company", "WarehouseId '99' does not exist in company USMF"),
    ("finops", "CustomersV2", CUSTOMER, {"OrganizationName": None},
     "OrganizationName is required when PartyType is Organization",
     "OrganizationName is required when PartyType is Organization"),
    ("finops", "CustomersV2", CUSTOMER, {"PartyType": "Person", "PersonFirstName": "Ann"},
     "PersonLastName is required when PartyType is Person",
     "PersonLastName is required when PartyType is Person"),
    ("finops", "CustomersV2", CUSTOMER, {"PartyType": "Company"},
     "PartyType is not a valid PartyType value",
     "PartyType 'Company' is not a valid PartyType value (Organization, Person)"),
    ("finops", "CustomersV2", CUSTOMER, {"IsExternallyMaintained": "Maybe"},
     "IsExternallyMaintained is not a valid NoYes value",
     "IsExternallyMaintained 'Maybe' is not a valid NoYes value (No, Yes)"),
    ("finops", "CustomersV2", CUSTOMER, {"dataAreaId": "ZZZZ"},
     "dataAreaId does not exist as a company", "dataAreaId 'ZZZZ' does not exist as a company"),
    ("finops", "CustomersV2", CUSTOMER, {"OrganizationName": TOO_LONG},
     "OrganizationName is longer than 100 characters",
     f"OrganizationName '{TOO_LONG}' is longer than 100 characters"),
    ("finops", "CDSContactPersons", CONTACT_PERSON, {"AssociatedPartyNumber": "P2"},
     "AssociatedPartyNumber is not the party number of a customer in the company",
     "AssociatedPartyNumber 'P2' is not the party number of a customer in company USMF"),
    ("finops", "CDSContactPersons", CONTACT_PERSON, {"dataAreaId": "demf"},
     "AssociatedPartyNumber is not the party number of a customer in the company",
     "AssociatedPartyNumber 'P1' is not the party number of a customer in company DEMF"),
    ("finops", "CDSContactPersons", CONTACT_PERSON, {"DecisionMakingRoleCode": "Influencer"},
     "DecisionMakingRoleCode does not exist in company",
     "DecisionMakingRoleCode 'Influencer' does not exist in company USMF"),
    ("finops", "CDSContactPersons", CONTACT_PERSON, {"IsContactPersonExternallyMaintained": "Y"},
     "IsContactPersonExternallyMaintained is not a valid NoYes value",
     "IsContactPersonExternallyMaintained 'Y' is not a valid NoYes value (No, Yes)"),
    ("cds", "accounts", {"Organization_OrganizationId": "ORG001", "AccountId": "A1"},
     {"Organization_OrganizationId": "ORG002"},
     "Organization_OrganizationId does not exist",
     "Organization_OrganizationId 'ORG002' does not exist"),
    ("cds", "accounts", {"Organization_OrganizationId": "ORG001", "AccountId": "A1"},
     {"PartyType": "Robot"},
     "PartyType is not a valid PartyType value",
     "PartyType 'Robot' is not a valid PartyType value (Organization, Person)"),
    ("cds", "contacts", {"Organization_OrganizationId": "ORG001", "ContactId": "C1"},
     {"PrimaryAccount_AccountId": "A9"},
     "PrimaryAccount_AccountId does not exist in the organization",
     "PrimaryAccount_AccountId 'A9' does not exist in organization ORG001"),
    ("cds", "contacts", {"Organization_OrganizationId": "ORG001", "ContactId": "C1"},
     {"PrimaryAccountRole": "Boss"},
     "PrimaryAccountRole is not a valid PrimaryAccountRole value",
     "PrimaryAccountRole 'Boss' is not a valid PrimaryAccountRole value"
     " (DecisionMaker, Employee, Influencer)"),
    ("sales", "contacts", {"lastname": "Smith"}, {"accountrolecode": 7},
     "accountrolecode is not a valid option",
     "accountrolecode '7' is not a valid option (1, 2, 3)"),
    ("sales", "contacts", {"lastname": "Smith"}, {"msdynce_isactivecustomer": 2},
     "msdynce_isactivecustomer must be true or false",
     "msdynce_isactivecustomer '2' must be true or false"),
    ("sales", "contacts", {"lastname": "Smith"}, {"contactid": "not-a-guid"},
     "contactid is not a GUID", "contactid 'not-a-guid' is not a GUID"),
    ("sales", "contacts", {"lastname": "Smith"},
     {"parentcustomerid": MISSING, "parentcustomeridtype": "account"},
     "parentcustomerid does not point to an existing account or contact",
     "parentcustomerid '6f1c1d9e-0000-4000-8000-000000000000' does not point to an existing"
     " account or contact"),
    ("sales", "contacts", {"lastname": "Smith"}, {"address1_city": "y" * 81},
     "address1_city is longer than 80 characters",
     f"address1_city '{'y' * 81}' is longer than 80 characters"),
    ("sales", "quotes", {"name": "Q"},
     {"customerid": MISSING, "customeridtype": "contact"},
     "customerid does not point to an existing account or contact",
     "customerid '6f1c1d9e-0000-4000-8000-000000000000' does not point to an existing"
     " account or contact"),
]  # fmt: skip


@pytest.mark.parametrize(("service", "entity_set", "base", "change", "text", "message"), CASES)
def test_rule_refuses_insert(
    store: SandboxStore,
    service: str,
    entity_set: str,
    base: dict[str, Any],
    change: dict[str, Any],
    text: str,
    message: str,
) -> None:
    conn = store.connect(service)
    if entity_set == "CDSContactPersons":
        insert(conn, "CustomersV2", CUSTOMER)
    record = {**base, **change}
    with pytest.raises(sqlite3.IntegrityError) as caught:
        insert(conn, entity_set, record)
    assert str(caught.value) == text
    violation = explain_violation(service, entity_set, record, caught.value)
    field = next(iter(change)) if len(change) == 1 else None
    assert violation is not None
    assert violation.message == message
    if field and field != "dataAreaId":
        assert violation.field == field
    assert conn.execute(f"SELECT count(*) FROM {entity_set}").fetchone() == (0,)
    conn.close()


@pytest.mark.parametrize(("service", "entity_set", "base", "change", "text", "message"), CASES)
def test_rule_refuses_update(
    store: SandboxStore,
    service: str,
    entity_set: str,
    base: dict[str, Any],
    change: dict[str, Any],
    text: str,
    message: str,
) -> None:
    conn = store.connect(service)
    if entity_set == "CDSContactPersons":
        insert(conn, "CustomersV2", CUSTOMER)
    insert(conn, entity_set, base)
    before = conn.execute(f"SELECT * FROM {entity_set}").fetchall()
    sets = ", ".join(f'"{c}" = ?' for c in change)
    with pytest.raises(sqlite3.IntegrityError, match=f"^{text}$"):
        conn.execute(f"UPDATE {entity_set} SET {sets}", list(change.values()))
    assert conn.execute(f"SELECT * FROM {entity_set}").fetchall() == before
    conn.close()


def test_valid_rows_are_accepted_and_company_is_stored_lower_case(
    finops: sqlite3.Connection,
) -> None:
    insert(finops, "CustomersV2", {**CUSTOMER, "dataAreaId": "UsMf", "SiteId": "1",
                                   "WarehouseId": "13", "LanguageId": "en-us",
                                   "IsExternallyMaintained": "Yes"})  # fmt: skip
    insert(finops, "CustomersV2", {**CUSTOMER, "dataAreaId": "DEMF", "CustomerGroupId": "20"})
    insert(finops, "CDSContactPersons", {**CONTACT_PERSON, "dataAreaId": "USMF",
                                         "DecisionMakingRoleCode": "Employee"})  # fmt: skip
    rows = finops.execute(
        "SELECT dataAreaId, CustomerAccount, IsExternallyMaintained FROM CustomersV2 ORDER BY 1"
    ).fetchall()
    assert rows == [("demf", "C1", "No"), ("usmf", "C1", "Yes")]
    assert finops.execute("SELECT dataAreaId FROM CDSContactPersons").fetchall() == [("usmf",)]


def test_company_is_part_of_the_key_whatever_its_case(finops: sqlite3.Connection) -> None:
    insert(finops, "CustomersV2", CUSTOMER)
    with pytest.raises(sqlite3.IntegrityError) as caught:
        insert(finops, "CustomersV2", {**CUSTOMER, "dataAreaId": "usmf"})
    violation = explain_violation("finops", "CustomersV2", CUSTOMER, caught.value)
    assert violation == Violation(
        "CustomerAccount",
        "A record with dataAreaId 'USMF', CustomerAccount 'C1' already exists",
        412,
    )


def test_reference_codes_compare_case_insensitively(finops: sqlite3.Connection) -> None:
    insert(finops, "CustomersV2", {**CUSTOMER, "AddressCountryRegionISOCode": "usa",
                                   "LanguageId": "EN-US"})  # fmt: skip
    assert finops.execute("SELECT count(*) FROM CustomersV2").fetchone() == (1,)


def test_duplicate_alternate_key_is_explained(sales: sqlite3.Connection) -> None:
    insert(sales, "accounts", {"name": "A", "accountnumber": "ACC-1"})
    with pytest.raises(sqlite3.IntegrityError) as caught:
        insert(sales, "accounts", {"name": "B", "accountnumber": "acc-1"})
    violation = explain_violation("sales", "accounts", {"accountnumber": "acc-1"}, caught.value)
    assert violation == Violation(
        "accountnumber", "A record with accountnumber 'acc-1' already exists", 412
    )


def test_explain_violation_of_a_type_error_and_an_unknown_error() -> None:
    v = explain_violation(
        "sales", "contacts", {"accountrolecode": "x"},
        "cannot store TEXT value in INTEGER column contacts.accountrolecode",
    )  # fmt: skip
    assert v == Violation("accountrolecode", "accountrolecode 'x' is not a valid integer")
    assert explain_violation("sales", "contacts", {}, "disk I/O error") is None
    assert explain_violation("sales", "nothing", {}, "x") is None


def test_a_lookup_left_dangling_does_not_block_other_updates(sales: sqlite3.Connection) -> None:
    account = "aaaaaaaa-0000-4000-8000-000000000001"
    insert(sales, "accounts", {"accountid": account, "name": "A"})
    insert(sales, "quotes", {"name": "Q", "customerid": account, "customeridtype": "account"})
    sales.execute("DELETE FROM accounts")
    sales.execute("UPDATE quotes SET name = 'Q2'")
    with pytest.raises(sqlite3.IntegrityError, match="customerid does not point"):
        sales.execute("UPDATE quotes SET customerid = ?", (MISSING,))
