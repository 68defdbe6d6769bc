"""The open-source F&O client ``d365fo-client`` 0.3.7, unmodified, against the sandbox's F&O
service over https: metadata (``/Metadata``), query, get by key, create, update and delete, each
checking what the client returns and what the sandbox's SQLite store then holds.

The client runs in its own Python 3.13 interpreter (``fo_driver.py``; it declares Python >=
3.13), one process for the module, as one application would keep one client.
"""

from __future__ import annotations

import sqlite3
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from integrator.sandbox.stores import SandboxStore
from integrator.sandbox.testing import SandboxHandle
from tests.clients.conftest import FinOpsClient

pytestmark = pytest.mark.clients

CUSTOMERS = "CustomersV2"


def _customer(account: str, **fields: Any) -> dict[str, Any]:
    return {
        "dataAreaId": "usmf",
        "CustomerAccount": account,
        "CustomerGroupId": "10",
        "AddressCountryRegionISOCode": "USA",
        "OrganizationName": f"Org {account}",
        **fields,
    }


def _key(account: str) -> dict[str, str]:
    return {"dataAreaId": "usmf", "CustomerAccount": account}


def _stored(sandbox: SandboxHandle, account: str) -> dict[str, Any] | None:
    conn = SandboxStore.open(sandbox.data_dir, with_solution=None).connect("finops")
    try:
        conn.row_factory = sqlite3.Row
        row = conn.execute(
            "SELECT * FROM CustomersV2 WHERE dataAreaId = 'usmf' AND CustomerAccount = ?",
            (account,),
        ).fetchone()
        return dict(row) if row is not None else None
    finally:
        conn.close()


@pytest.fixture(scope="module")
def seeded(finops_tls: SandboxHandle) -> Iterator[SandboxHandle]:
    """The module's sandbox with customers FOQ-1..FOQ-4 (for reads) made with plain HTTP."""
    verify = ssl.create_default_context(cafile=str(finops_tls.ca_certfile))
    for n, group in ((1, "10"), (2, "20"), (3, "10"), (4, "10")):
        r = httpx.post(
            finops_tls.finops + CUSTOMERS,
            json=_customer(f"FOQ-{n}", CustomerGroupId=group),
            verify=verify,
            timeout=30,
        )
        assert r.status_code == 201, r.text
    yield finops_tls


def test_public_entity_metadata(finops_client: FinOpsClient) -> None:
    info = finops_client.call("public_entity", name="CustomerV2")
    assert (info["name"], info["entity_set_name"]) == ("CustomerV2", CUSTOMERS)
    assert info["is_read_only"] is False
    props = {p["name"]: p for p in info["properties"]}
    assert [n for n, p in props.items() if p["is_key"]] == ["dataAreaId", "CustomerAccount"]
    assert props["CustomerGroupId"]["is_mandatory"] is True
    assert props["PersonLastName"]["is_mandatory"] is False
    assert props["IsExternallyMaintained"]["data_type"] == "Enum"


def test_data_entity_search(finops_client: FinOpsClient) -> None:
    found = finops_client.call("search_data_entities", pattern="customer")
    by_collection = {e["public_collection_name"]: e for e in found}
    assert CUSTOMERS in by_collection
    assert by_collection[CUSTOMERS]["public_entity_name"] == "CustomerV2"
    assert by_collection[CUSTOMERS]["data_service_enabled"] is True
    assert all("customer" in e["name"].lower() for e in found)


def test_public_enumeration(finops_client: FinOpsClient) -> None:
    info = finops_client.call("public_enumeration", name="NoYes")
    assert [(m["name"], m["value"]) for m in info["members"]] == [("No", 0), ("Yes", 1)]


def test_query_with_select_filter_orderby_top(
    finops_client: FinOpsClient, seeded: SandboxHandle
) -> None:
    answer = finops_client.call(
        "query",
        entity_set=CUSTOMERS,
        options={
            "select": ["CustomerAccount", "CustomerGroupId"],
            "filter": "CustomerGroupId eq '10' and startswith(CustomerAccount,'FOQ-')",
            "orderby": ["CustomerAccount desc"],
            "top": 2,
        },
    )
    rows = answer["value"]
    assert [r["CustomerAccount"] for r in rows] == ["FOQ-4", "FOQ-3"]
    assert all(set(r) - {"@odata.etag"} == {"CustomerAccount", "CustomerGroupId"} for r in rows)
    for r in rows:
        stored = _stored(seeded, r["CustomerAccount"])
        assert stored is not None and stored["CustomerGroupId"] == "10"


def test_get_by_key(finops_client: FinOpsClient, seeded: SandboxHandle) -> None:
    record = finops_client.call("get_by_key", entity_set=CUSTOMERS, key=_key("FOQ-2"))
    stored = _stored(seeded, "FOQ-2")
    assert stored is not None
    assert record["CustomerAccount"] == "FOQ-2"
    assert record["CustomerGroupId"] == stored["CustomerGroupId"] == "20"
    assert record["OrganizationName"] == stored["OrganizationName"]
    assert finops_client.call("get_by_key", entity_set=CUSTOMERS, key=_key("FOQ-404")) is None


def test_create(finops_client: FinOpsClient, finops_tls: SandboxHandle) -> None:
    created = finops_client.call("create", entity_set=CUSTOMERS, data=_customer("FOC-1"))
    assert (created["CustomerAccount"], created["OrganizationName"]) == ("FOC-1", "Org FOC-1")
    stored = _stored(finops_tls, "FOC-1")
    assert stored is not None and stored["OrganizationName"] == "Org FOC-1"


def test_update(finops_client: FinOpsClient, finops_tls: SandboxHandle) -> None:
    finops_client.call("create", entity_set=CUSTOMERS, data=_customer("FOU-1"))
    finops_client.call(
        "update", entity_set=CUSTOMERS, key=_key("FOU-1"), data={"OrganizationName": "Renamed"}
    )
    stored = _stored(finops_tls, "FOU-1")
    assert stored is not None
    assert (stored["OrganizationName"], stored["CustomerGroupId"]) == ("Renamed", "10")


def test_delete(finops_client: FinOpsClient, finops_tls: SandboxHandle) -> None:
    finops_client.call("create", entity_set=CUSTOMERS, data=_customer("FOD-1"))
    assert finops_client.call("delete", entity_set=CUSTOMERS, key=_key("FOD-1")) is True
    assert _stored(finops_tls, "FOD-1") is None
