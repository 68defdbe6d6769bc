"""Writing through OData: POST, PATCH upsert by key and alternate key, If-Match / If-None-Match,
DELETE, lookups, SetAutoNumberSeed, composite keys."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_http_support import error_message

from integrator.sandbox.testing import SandboxHandle


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def test_post_answers_204_with_entity_id_and_201_with_representation(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = client.post(sandbox.sales + "contacts", json={"firstname": "Ada", "lastname": "Byron"})
    assert r.status_code == 204 and r.content == b""
    url = r.headers["OData-EntityId"]
    assert url.startswith(sandbox.sales + "contacts(")
    got = client.get(url).json()
    assert got["fullname"] == "Ada Byron"
    assert got["msdynce_contactnumber"].startswith("CON-01000-")

    r = client.post(
        sandbox.sales + "contacts?$select=lastname,msdynce_contactnumber",
        json={"lastname": "Hopper"},
        headers={"Prefer": "return=representation"},
    )
    assert r.status_code == 201
    assert r.headers["Preference-Applied"] == "return=representation"
    body = r.json()
    assert body["lastname"] == "Hopper"
    assert body["msdynce_contactnumber"].startswith("CON-01001-")
    assert "firstname" not in body


def test_get_by_alternate_key_and_missing_key(sandbox: SandboxHandle, client: httpx.Client) -> None:
    client.post(sandbox.sales + "contacts", json={"lastname": "Lovelace"})
    number = client.get(sandbox.sales + "contacts").json()["value"][0]["msdynce_contactnumber"]
    r = client.get(sandbox.sales + f"contacts(msdynce_contactnumber='{number}')")
    assert r.status_code == 200 and r.json()["lastname"] == "Lovelace"
    r = client.get(sandbox.sales + "contacts(msdynce_contactnumber='CON-99999-XXXXXX')")
    assert r.status_code == 404
    assert "CON-99999-XXXXXX" in error_message(r)
    r = client.get(sandbox.sales + "contacts(00000000-0000-0000-0000-000000000001)")
    assert r.status_code == 404


def test_patch_upserts_by_alternate_key(sandbox: SandboxHandle, client: httpx.Client) -> None:
    url = sandbox.sales + "contacts(msdynce_contactnumber='CON-05000-AAAAAA')"
    r = client.patch(url, json={"lastname": "First"})
    assert r.status_code == 204
    entity = r.headers["OData-EntityId"]
    r = client.patch(url, json={"lastname": "Second"}, headers={"Prefer": "return=representation"})
    assert r.status_code == 200 and r.json()["lastname"] == "Second"
    assert r.headers["OData-EntityId"] == entity
    values = client.get(sandbox.sales + "contacts").json()["value"]
    assert [(v["msdynce_contactnumber"], v["lastname"]) for v in values] == [
        ("CON-05000-AAAAAA", "Second")
    ]
    r = client.patch(
        sandbox.sales + "contacts(msdynce_contactnumber='CON-05001-BBBBBB')",
        json={"lastname": "New"},
        headers={"Prefer": "return=representation"},
    )
    assert r.status_code == 201


def test_if_match_updates_only_and_if_none_match_creates_only(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    url = sandbox.sales + "accounts(accountnumber='ACC-1')"
    r = client.patch(url, json={"name": "X"}, headers={"If-Match": "*"})
    assert r.status_code == 404
    assert client.get(sandbox.sales + "accounts").json()["value"] == []
    r = client.patch(url, json={"name": "X"}, headers={"If-None-Match": "*"})
    assert r.status_code == 204
    r = client.patch(url, json={"name": "Y"}, headers={"If-None-Match": "*"})
    assert r.status_code == 412
    r = client.patch(url, json={"name": "Z"}, headers={"If-Match": "*"})
    assert r.status_code == 204
    assert client.get(url).json()["name"] == "Z"


def test_delete(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.post(sandbox.sales + "accounts", json={"name": "Gone"})
    url = r.headers["OData-EntityId"]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404


def test_lookup_bind_by_alternate_key_change_and_clear(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    client.post(sandbox.sales + "accounts", json={"name": "Parent", "accountnumber": "P-1"})
    r = client.post(
        sandbox.sales + "contacts",
        json={
            "lastname": "Kid",
            "parentcustomerid_account@odata.bind": "accounts(accountnumber='P-1')",
        },
    )
    assert r.status_code == 204, r.text
    contact = r.headers["OData-EntityId"]
    assert client.get(contact).json()["msdynce_iscompanyanaccount"] is True

    other = client.post(sandbox.sales + "contacts", json={"lastname": "Boss"})
    other_id = other.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    r = client.patch(
        contact, json={"parentcustomerid_contact@odata.bind": f"/contacts({other_id})"}
    )
    assert r.status_code == 204, r.text
    got = client.get(contact, headers={"Prefer": 'odata.include-annotations="*"'}).json()
    assert got["_parentcustomerid_value"] == other_id
    assert got["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "contact"
    assert got["msdynce_iscompanyanaccount"] is False

    r = client.patch(contact, json={"parentcustomerid_contact@odata.bind": None})
    assert r.status_code == 204
    assert client.get(contact).json()["_parentcustomerid_value"] is None


def test_set_auto_number_seed_moves_the_sequence(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = client.post(
        sandbox.sales + "SetAutoNumberSeed",
        json={"EntityName": "contact", "AttributeName": "msdynce_contactnumber", "Value": 4200},
    )
    assert r.status_code == 204, r.text
    r = client.post(
        sandbox.sales + "contacts",
        json={"lastname": "Next"},
        headers={"Prefer": "return=representation"},
    )
    assert r.json()["msdynce_contactnumber"].startswith("CON-04200-")
    r = client.post(
        sandbox.sales + "SetAutoNumberSeed",
        json={"EntityName": "contact", "AttributeName": "nope", "Value": 1},
    )
    assert r.status_code == 400 and "nope" in error_message(r)


def test_cds_composite_keys(sandbox: SandboxHandle, client: httpx.Client) -> None:
    url = sandbox.cds + "accounts(Organization_OrganizationId='ORG001',AccountId='ACC-1')"
    r = client.patch(url, json={"OrganizationName": "Contoso", "PartyType": "Organization"})
    assert r.status_code == 204, r.text
    assert r.headers["OData-EntityId"] == url
    assert client.get(url).json()["OrganizationName"] == "Contoso"
    r = client.get(sandbox.cds + "accounts('ACC-1')")
    assert r.status_code == 400
    assert "composite key" in error_message(r)


def test_finops_post_returns_the_entity_and_defaults_the_company(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = client.post(
        sandbox.finops + "CustomersV2",
        json={
            "CustomerAccount": "C-1",
            "OrganizationName": "Contoso",
            "CustomerGroupId": "10",
            "AddressCountryRegionISOCode": "USA",
            "IsExternallyMaintained": "Yes",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["dataAreaId"] == "usmf" and body["IsExternallyMaintained"] == "Yes"
    assert r.headers["OData-EntityId"].endswith(
        "CustomersV2(dataAreaId='usmf',CustomerAccount='C-1')"
    )
    r = client.get(sandbox.finops + "CustomersV2(dataAreaId='USMF',CustomerAccount='C-1')")
    assert r.status_code == 200 and r.json()["dataAreaId"] == "usmf"


def test_if_match_with_an_etag_is_optimistic_concurrency(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    url = sandbox.sales + "accounts(accountnumber='E-1')"
    client.patch(url, json={"name": "v1"})
    etag = client.get(url).json()["@odata.etag"]
    assert client.patch(url, json={"name": "v2"}, headers={"If-Match": etag}).status_code == 204
    r = client.patch(url, json={"name": "v3"}, headers={"If-Match": etag})
    assert r.status_code == 412
    assert client.get(url).json()["name"] == "v2"
