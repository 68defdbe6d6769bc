"""Change tracking: Prefer odata.track-changes, delta links, deleted entities, expiry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sandbox_http_support import Op, error_message, post_batch

from integrator.sandbox.stores import SandboxStore, purge_tombstones
from integrator.sandbox.testing import SandboxHandle

TRACK = {"Prefer": "odata.track-changes"}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def _follow(
    client: httpx.Client, url: str, headers: dict[str, str]
) -> tuple[list[dict[str, Any]], str, int]:
    """Every value up to the delta link, the delta link, and the number of pages."""
    values: list[dict[str, Any]] = []
    pages = 0
    while True:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        values += body["value"]
        pages += 1
        if "@odata.nextLink" in body:
            assert "@odata.deltaLink" not in body
            url = body["@odata.nextLink"]
            continue
        return values, body["@odata.deltaLink"], pages


def test_initial_read_then_changes_and_deletes(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    ops: list[Op | list[Op]] = [
        Op("PATCH", f"contacts(msdynce_contactnumber='CON-0{i:04d}-AAAAAA')", {"lastname": f"L{i}"})
        for i in range(25)
    ]
    assert post_batch(client, sandbox.sales, ops).status_code == 200
    url = sandbox.sales + "contacts?$select=lastname,msdynce_contactnumber"
    r = client.get(url, headers=TRACK)
    assert r.headers["Preference-Applied"] == "odata.track-changes"
    values, delta_link, pages = _follow(
        client, url, {"Prefer": "odata.track-changes,odata.maxpagesize=10"}
    )
    assert len(values) == 25 and pages == 3
    assert "$deltatoken=" in delta_link

    values, delta_link_2, _ = _follow(client, delta_link, {})
    assert values == []

    client.patch(
        sandbox.sales + "contacts(msdynce_contactnumber='CON-00003-AAAAAA')",
        json={"lastname": "Changed"},
    )
    client.post(sandbox.sales + "contacts", json={"lastname": "New"})
    deleted_id = client.get(
        sandbox.sales + "contacts(msdynce_contactnumber='CON-00004-AAAAAA')"
    ).json()["contactid"]
    assert client.delete(sandbox.sales + f"contacts({deleted_id})").status_code == 204

    values, delta_link_3, _ = _follow(client, delta_link_2, {})
    changed = sorted(v["lastname"] for v in values if "reason" not in v)
    assert changed == ["Changed", "New"]
    assert all(set(v) >= {"lastname", "msdynce_contactnumber"} for v in values if "reason" not in v)
    deleted = [v for v in values if v.get("reason") == "deleted"]
    assert len(deleted) == 1
    assert deleted[0]["id"] == deleted_id
    assert deleted[0]["@odata.context"].endswith("$metadata#contacts/$deletedEntity")

    values, _, _ = _follow(client, delta_link_3, {})
    assert values == []


def test_delta_pages(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.get(sandbox.cds + "contacts", headers=TRACK)
    delta_link = r.json()["@odata.deltaLink"]
    ops: list[Op | list[Op]] = [
        Op(
            "POST",
            "contacts",
            {"Organization_OrganizationId": "ORG001", "ContactId": f"C{i:03d}", "LastName": "x"},
        )
        for i in range(40)
    ]
    assert post_batch(client, sandbox.cds, ops).status_code == 200
    client.delete(sandbox.cds + "contacts(Organization_OrganizationId='ORG001',ContactId='C007')")
    values, _, pages = _follow(client, delta_link, {"Prefer": "odata.maxpagesize=15"})
    assert pages == 3
    changed = [v for v in values if "reason" not in v]
    assert len(changed) == 39
    (deleted,) = [v for v in values if "reason" in v]
    assert deleted["ContactId"] == "C007"
    assert deleted["id"] == "Organization_OrganizationId='ORG001',ContactId='C007'"


def test_expired_and_foreign_tokens(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.get(sandbox.sales + "accounts", headers=TRACK)
    delta_link = r.json()["@odata.deltaLink"]
    created = client.post(sandbox.sales + "accounts", json={"name": "x"})
    client.delete(created.headers["OData-EntityId"])

    conn = SandboxStore.open(sandbox.data_dir).connect("sales")
    try:
        purge_tombstones(conn, before=datetime.now(UTC) + timedelta(days=1))
    finally:
        conn.close()
    r = client.get(delta_link)
    assert r.status_code == 410
    assert r.json()["error"]["code"] == "ExpiredVersionStamp"
    assert "expired" in error_message(r)

    r = client.get(sandbox.sales + "accounts", params={"$deltatoken": "garbage"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "InvalidDeltaToken"
    contacts_token = delta_link.replace("accounts", "contacts")
    assert client.get(contacts_token).status_code == 400


def test_track_changes_refuses_filter_and_untracked_sets(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = client.get(sandbox.sales + "contacts", params={"$filter": "lastname eq 'x'"}, headers=TRACK)
    assert r.status_code == 400
    assert "$filter" in error_message(r)
    r = client.get(sandbox.sales + "quotes", headers=TRACK)
    assert r.status_code == 400
    assert "quotes" in error_message(r)
