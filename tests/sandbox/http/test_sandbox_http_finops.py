"""F&O specifics: default company, cross-company, dataAreaId case, enums as strings."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from integrator.sandbox.testing import SandboxHandle


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def _customer(account: str, company: str, maintained: str = "No") -> dict[str, str]:
    return {
        "dataAreaId": company,
        "CustomerAccount": account,
        "OrganizationName": f"Org {account}",
        "CustomerGroupId": "10",
        "AddressCountryRegionISOCode": "USA",
        "IsExternallyMaintained": maintained,
    }


def test_only_the_default_company_unless_cross_company(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    groups = client.get(sandbox.finops + "CustomerGroups?cross-company=true").json()["value"]
    companies = {g["dataAreaId"] for g in groups}
    assert "usmf" in companies and companies == {c.lower() for c in companies}
    other = sorted(companies - {"usmf"})
    assert other, "reference data should hold a second company"
    r = client.post(sandbox.finops + "CustomersV2", json=_customer("U-1", "USMF", "Yes"))
    assert r.status_code == 201, r.text
    r = client.post(sandbox.finops + "CustomersV2", json=_customer("O-1", other[0].upper()))
    assert r.status_code == 201, r.text
    assert r.json()["dataAreaId"] == other[0]

    default = client.get(sandbox.finops + "CustomersV2").json()["value"]
    assert [c["CustomerAccount"] for c in default] == ["U-1"]
    everything = client.get(sandbox.finops + "CustomersV2?cross-company=true").json()["value"]
    assert sorted(c["CustomerAccount"] for c in everything) == ["O-1", "U-1"]
    filtered = client.get(
        sandbox.finops + "CustomersV2",
        params={"cross-company": "true", "$filter": f"dataAreaId eq '{other[0].upper()}'"},
    ).json()["value"]
    assert [c["CustomerAccount"] for c in filtered] == ["O-1"]


def test_enums_travel_as_strings_and_filter_with_enum_literals(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    client.post(sandbox.finops + "CustomersV2", json=_customer("A", "usmf", "Yes"))
    client.post(sandbox.finops + "CustomersV2", json=_customer("B", "usmf", "No"))
    r = client.get(
        sandbox.finops + "CustomersV2",
        params={
            "$filter": "IsExternallyMaintained eq Microsoft.Dynamics.DataEntities.NoYes'Yes'",
            "$select": "CustomerAccount,IsExternallyMaintained",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["value"] == [{"CustomerAccount": "A", "IsExternallyMaintained": "Yes"}]
    r = client.post(sandbox.finops + "CustomersV2", json=_customer("C", "usmf", "Maybe"))
    assert r.status_code == 400
    assert "'IsExternallyMaintained'" in r.json()["error"]["message"]


def test_contact_person_needs_its_customer(sandbox: SandboxHandle, client: httpx.Client) -> None:
    person = {
        "ContactPersonPartyNumber": "P-1",
        "AssociatedPartyNumber": "NOPE",
        "LastName": "x",
    }
    r = client.post(sandbox.finops + "CDSContactPersons", json=person)
    assert r.status_code == 400
    assert "NOPE" in r.json()["error"]["message"]


def test_finops_page_size_cap_is_10000(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.get(
        sandbox.finops + "AddressCountryRegions", headers={"Prefer": "odata.maxpagesize=20000"}
    )
    assert r.headers["Preference-Applied"] == "odata.maxpagesize=10000"
    assert len(r.json()["value"]) > 200


def test_wildcards_in_string_equality(sandbox: SandboxHandle, client: httpx.Client) -> None:
    for account in ("RETAIL-1", "X-RETAIL", "OTHER"):
        client.post(sandbox.finops + "CustomersV2", json=_customer(account, "usmf"))

    def accounts(expr: str) -> list[str]:
        r = client.get(sandbox.finops + "CustomersV2", params={"$filter": expr})
        assert r.status_code == 200, r.text
        return sorted(c["CustomerAccount"] for c in r.json()["value"])

    assert accounts("CustomerAccount eq '*retail*'") == ["RETAIL-1", "X-RETAIL"]
    assert accounts("CustomerAccount eq 'retail*'") == ["RETAIL-1"]
    assert accounts("CustomerAccount eq '*retail'") == ["X-RETAIL"]
    assert accounts("CustomerAccount ne '*retail*'") == ["OTHER"]
