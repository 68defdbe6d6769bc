"""``RetrieveTotalRecordCount`` as Dataverse answers it: counts by logical name, in the order
asked, inline or through a parameter alias; an unknown name refused."""

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


def _add_accounts(client: httpx.Client, root: str, n: int) -> None:
    for i in range(n):
        assert client.post(root + "accounts", json={"name": f"A{i}"}).status_code == 204


def test_counts_come_back_by_logical_name_in_the_order_asked(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    _add_accounts(client, sandbox.sales, 3)
    client.post(sandbox.sales + "contacts", json={"lastname": "Lee"})

    r = client.get(sandbox.sales + "RetrieveTotalRecordCount(EntityNames=['contact','account'])")

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["@odata.context"].endswith(
        "$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse"
    )
    assert body["EntityRecordCountCollection"] == {
        "Count": 2,
        "IsReadOnly": False,
        "Keys": ["contact", "account"],
        "Values": [1, 3],
    }


def test_a_parameter_alias_and_cds_work_too(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.get(
        sandbox.cds + "RetrieveTotalRecordCount(EntityNames=@p1)", params={"@p1": "['account']"}
    )

    assert r.status_code == 200, r.text
    assert r.json()["EntityRecordCountCollection"]["Keys"] == ["account"]


def test_an_entity_set_name_is_not_a_logical_name(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = client.get(sandbox.sales + "RetrieveTotalRecordCount(EntityNames=['contacts'])")

    assert r.status_code == 404
    assert "'contacts'" in error_message(r)
    assert (
        client.post(sandbox.sales + "RetrieveTotalRecordCount(EntityNames=['contact'])").status_code
        == 405
    )
