"""Bad input answers a 4xx OData error that says what is wrong, and writes nothing."""

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


def _no_contacts(client: httpx.Client, sandbox: SandboxHandle) -> None:
    assert client.get(sandbox.sales + "contacts").json()["value"] == []


def test_malformed_json(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.post(
        sandbox.sales + "contacts",
        content=b'{"lastname": "x",',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert "Malformed JSON" in error_message(r)
    _no_contacts(client, sandbox)


def test_unknown_field_is_named(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.post(sandbox.sales + "contacts", json={"lastname": "x", "shoesize": 42})
    assert r.status_code == 400
    assert "'shoesize'" in error_message(r)
    _no_contacts(client, sandbox)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("lastname", 12, "expected a string"),
        ("msdynce_isactivecustomer", "yes", "expected true or false"),
        ("accountrolecode", "1", "expected an integer"),
        ("accountrolecode", 7, "expected one of 1, 2, 3"),
    ],
)
def test_wrong_type_names_field_and_value(
    sandbox: SandboxHandle, client: httpx.Client, field: str, value: object, expected: str
) -> None:
    r = client.post(sandbox.sales + "contacts", json={"lastname": "x", field: value})
    assert r.status_code == 400
    message = error_message(r)
    assert f"'{field}'" in message and expected in message and str(value) in message
    _no_contacts(client, sandbox)


def test_value_too_long(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.post(sandbox.sales + "contacts", json={"lastname": "x" * 51})
    assert r.status_code == 400
    assert error_message(r) == "Value for field 'lastname' is 51 characters long; the maximum is 50"


def test_malformed_filter_says_where(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.get(sandbox.sales + "contacts", params={"$filter": "lastname eq 'x' and"})
    assert r.status_code == 400
    assert "position" in error_message(r)
    r = client.get(sandbox.sales + "contacts", params={"$filter": "shoesize eq 1"})
    assert r.status_code == 400
    assert "'shoesize'" in error_message(r)


def test_bad_keys(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.get(sandbox.sales + "contacts(not-a-guid)")
    assert r.status_code == 400
    r = client.get(sandbox.sales + "contacts(lastname='x')")
    assert r.status_code == 400
    assert "does not match a key of contacts" in error_message(r)
    r = client.get(sandbox.sales + "contacts('x')")
    assert r.status_code == 400
    assert "is not a GUID" in error_message(r)


def test_unknown_entity_set_is_404(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.get(sandbox.sales + "leads")
    assert r.status_code == 404
    assert "'leads'" in error_message(r)


def test_rule_violation_names_field_and_value(sandbox: SandboxHandle, client: httpx.Client) -> None:
    customer = {
        "CustomerAccount": "C-1",
        "OrganizationName": "Contoso",
        "CustomerGroupId": "99",
        "AddressCountryRegionISOCode": "USA",
    }
    r = client.post(sandbox.finops + "CustomersV2", json=customer)
    assert r.status_code == 400
    assert error_message(r) == "CustomerGroupId '99' does not exist in company USMF"
    r = client.get(sandbox.finops + "CustomersV2")
    assert r.json()["value"] == []


def test_rule_violation_on_update_leaves_the_row_as_it_was(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    url = sandbox.finops + "CustomersV2(dataAreaId='usmf',CustomerAccount='C-2')"
    good = {
        "OrganizationName": "Contoso",
        "CustomerGroupId": "10",
        "AddressCountryRegionISOCode": "USA",
    }
    assert client.patch(url, json=good).status_code == 204
    r = client.patch(url, json={"CustomerGroupId": "99", "OrganizationName": "Changed"})
    assert r.status_code == 400
    assert "CustomerGroupId '99'" in error_message(r)
    got = client.get(url).json()
    assert (got["CustomerGroupId"], got["OrganizationName"]) == ("10", "Contoso")


def test_cds_contact_needs_an_existing_organization(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = client.post(
        sandbox.cds + "contacts",
        json={"Organization_OrganizationId": "ORG999", "ContactId": "C1", "LastName": "x"},
    )
    assert r.status_code == 400
    assert "ORG999" in error_message(r)


def test_missing_required_field(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.post(sandbox.finops + "CustomersV2", json={"CustomerAccount": "C-3"})
    assert r.status_code == 400
    assert "required" in error_message(r)


def test_paths_outside_the_services_answer_odata_errors(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = client.get(sandbox.url + "/nowhere/api")
    assert r.status_code == 404 and "/nowhere/api" in error_message(r)
    r = client.delete(sandbox.url + "/_sandbox/health")
    assert r.status_code == 405 and "DELETE" in error_message(r)
    r = client.put(sandbox.sales + "$metadata", json={})
    assert r.status_code == 405 and "PUT" in error_message(r)
