"""Microsoft's Dataverse SDK for Python (``powerplatform-dataverse-client``), unmodified, against
the sandbox's Sales service over https: one test per operation, each checking what the SDK
returns and what the sandbox's SQLite store then holds.

Where the SDK and Microsoft's documentation disagree, the test asserts the documented
behaviour (see docs/sandbox-fidelity/clients.md).
"""

from __future__ import annotations

import sqlite3
import ssl
import uuid
from typing import Any

import httpx
import pytest
from PowerPlatform.Dataverse.client import DataverseClient
from PowerPlatform.Dataverse.core.errors import HttpError
from PowerPlatform.Dataverse.models.filters import col
from PowerPlatform.Dataverse.models.upsert import UpsertItem

from integrator.sandbox.stores import SandboxStore
from integrator.sandbox.testing import SandboxHandle
from tests.clients.conftest import dataverse_client, sales_org_url

pytestmark = pytest.mark.clients


def _rows(sandbox: SandboxHandle, sql: str, *params: Any) -> list[dict[str, Any]]:
    conn = SandboxStore.open(sandbox.data_dir, with_solution=None).connect("sales")
    try:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]
    finally:
        conn.close()


def _contact(sandbox: SandboxHandle, contactid: str) -> dict[str, Any] | None:
    rows = _rows(sandbox, "SELECT * FROM contacts WHERE contactid = ?", contactid)
    return rows[0] if rows else None


def _post(sandbox: SandboxHandle, entity_set: str, fields: dict[str, Any]) -> httpx.Response:
    verify = ssl.create_default_context(cafile=str(sandbox.ca_certfile))
    return httpx.post(sandbox.sales + entity_set, json=fields, verify=verify, timeout=30)


def _post_contact(sandbox: SandboxHandle, **fields: Any) -> str:
    """Make a contact with plain HTTP (setup, not the client under test); its id."""
    r = _post(sandbox, "contacts", fields)
    assert r.status_code == 204, r.text
    return r.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def test_create_returns_the_new_id_and_the_row_exists(sales_tls: SandboxHandle) -> None:
    client, credential = dataverse_client(sales_tls)
    with client:
        new_id = client.records.create("contact", {"firstname": "Ada", "lastname": "Create"})
    assert uuid.UUID(new_id)
    row = _contact(sales_tls, new_id)
    assert row is not None
    assert (row["firstname"], row["lastname"]) == ("Ada", "Create")
    # the SDK asks its TokenCredential for the organization's default scope
    assert credential.scopes[0] == (sales_org_url(sales_tls) + "/.default",)


def test_get_by_id_returns_the_selected_columns_key_and_etag(
    dataverse: DataverseClient, sales_tls: SandboxHandle
) -> None:
    contactid = _post_contact(sales_tls, firstname="Grace", lastname="Get" + _tag())
    record = dataverse.records.retrieve("contact", contactid, select=["firstname", "lastname"])
    row = _contact(sales_tls, contactid)
    assert row is not None
    assert record["firstname"] == "Grace"
    assert record["lastname"] == row["lastname"]
    # Dataverse returns the primary key and the etag whatever $select names
    assert record["contactid"] == contactid
    assert record.etag is not None and record.etag.startswith('W/"')
    assert "emailaddress1" not in record


def test_list_with_select_filter_orderby_top(
    dataverse: DataverseClient, sales_tls: SandboxHandle
) -> None:
    result = dataverse.records.list(
        "contact",
        select=["firstname", "msdynce_contactnumber"],
        filter="statecode eq 0 and msdynce_contactnumber ne null",
        orderby=["msdynce_contactnumber desc"],
        top=7,
    )
    records = list(result)
    expected = _rows(
        sales_tls,
        "SELECT contactid, firstname, msdynce_contactnumber FROM contacts"
        " WHERE statecode = 0 AND msdynce_contactnumber IS NOT NULL"
        " ORDER BY msdynce_contactnumber DESC LIMIT 7",
    )
    assert len(expected) == 7
    assert [r["msdynce_contactnumber"] for r in records] == [
        e["msdynce_contactnumber"] for e in expected
    ]
    assert [r["contactid"] for r in records] == [e["contactid"] for e in expected]
    assert [r["firstname"] for r in records] == [e["firstname"] for e in expected]
    assert all("lastname" not in r for r in records)


def test_paging_follows_next_links_until_every_row_is_read(
    dataverse: DataverseClient, sales_tls: SandboxHandle
) -> None:
    pages = [
        list(page) for page in dataverse.records.list_pages("account", select=["name"], page_size=6)
    ]
    stored = _rows(sales_tls, "SELECT accountid FROM accounts")
    assert len(stored) >= 20
    assert [len(p) for p in pages[:-1]] == [6] * (len(pages) - 1)
    assert 1 <= len(pages[-1]) <= 6
    ids = [r["accountid"] for page in pages for r in page]
    assert sorted(ids) == sorted(r["accountid"] for r in stored)


def test_query_builder_where_order_top(
    dataverse: DataverseClient, sales_tls: SandboxHandle
) -> None:
    tag = _tag()
    for first in ("Cy", "Al", "Bo"):
        _post_contact(sales_tls, firstname=first, lastname="Builder" + tag)
    _post_contact(sales_tls, firstname="Zed", lastname="Other" + tag)
    result = (
        dataverse.query.builder("contact")
        .select("firstname", "lastname")
        .where(col("lastname") == "Builder" + tag)
        .order_by("firstname", descending=True)
        .top(2)
        .execute()
    )
    assert [r["firstname"] for r in result] == ["Cy", "Bo"]
    stored = _rows(sales_tls, "SELECT firstname FROM contacts WHERE lastname = ?", "Builder" + tag)
    assert sorted(r["firstname"] for r in stored) == ["Al", "Bo", "Cy"]


def test_update_changes_only_the_given_columns(
    dataverse: DataverseClient, sales_tls: SandboxHandle
) -> None:
    contactid = _post_contact(
        sales_tls, firstname="Linus", lastname="Update", emailaddress1="linus@example.com"
    )
    assert dataverse.records.update("contact", contactid, {"jobtitle": "Kernel"}) is None
    row = _contact(sales_tls, contactid)
    assert row is not None
    assert (row["jobtitle"], row["emailaddress1"]) == ("Kernel", "linus@example.com")


def test_delete_removes_the_row(dataverse: DataverseClient, sales_tls: SandboxHandle) -> None:
    contactid = _post_contact(sales_tls, firstname="Gone", lastname="Delete")
    assert dataverse.records.delete("contact", contactid) is None
    assert _contact(sales_tls, contactid) is None


def test_create_multiple(dataverse: DataverseClient, sales_tls: SandboxHandle) -> None:
    tag = _tag()
    ids = dataverse.records.create(
        "contact", [{"firstname": f"Bulk{i}", "lastname": "Create" + tag} for i in range(3)]
    )
    assert len(ids) == 3
    stored = _rows(
        sales_tls, "SELECT contactid, firstname FROM contacts WHERE lastname = ?", "Create" + tag
    )
    assert {r["contactid"] for r in stored} == set(ids)
    assert {r["firstname"] for r in stored} == {"Bulk0", "Bulk1", "Bulk2"}


def test_update_multiple(dataverse: DataverseClient, sales_tls: SandboxHandle) -> None:
    tag = _tag()
    ids = [_post_contact(sales_tls, firstname=f"U{i}", lastname="Multi" + tag) for i in range(2)]
    dataverse.records.update("contact", ids, [{"jobtitle": "First"}, {"jobtitle": "Second"}])
    titles = {
        r["contactid"]: r["jobtitle"]
        for r in _rows(
            sales_tls, "SELECT contactid, jobtitle FROM contacts WHERE lastname = ?", "Multi" + tag
        )
    }
    assert titles == {ids[0]: "First", ids[1]: "Second"}


def test_upsert_multiple_by_alternate_key(
    dataverse: DataverseClient, sales_tls: SandboxHandle
) -> None:
    tag = _tag().upper()
    existing = _post(sales_tls, "accounts", {"name": "Before", "accountnumber": f"UP-{tag}-1"})
    assert existing.status_code == 204, existing.text
    dataverse.records.upsert(
        "account",
        [
            UpsertItem(alternate_key={"accountnumber": f"UP-{tag}-1"}, record={"name": "After"}),
            UpsertItem(alternate_key={"accountnumber": f"UP-{tag}-2"}, record={"name": "New"}),
        ],
    )
    stored = _rows(
        sales_tls,
        "SELECT accountnumber, name FROM accounts WHERE accountnumber LIKE ? ORDER BY 1",
        f"UP-{tag}-%",
    )
    assert [(r["accountnumber"], r["name"]) for r in stored] == [
        (f"UP-{tag}-1", "After"),
        (f"UP-{tag}-2", "New"),
    ]


def test_upsert_one_by_alternate_key(dataverse: DataverseClient, sales_tls: SandboxHandle) -> None:
    number = f"UP1-{_tag().upper()}"
    dataverse.records.upsert(
        "account", [UpsertItem(alternate_key={"accountnumber": number}, record={"name": "One"})]
    )
    stored = _rows(sales_tls, "SELECT name FROM accounts WHERE accountnumber = ?", number)
    assert [r["name"] for r in stored] == ["One"]


def test_table_metadata(dataverse: DataverseClient, sales_tls: SandboxHandle) -> None:
    info = dataverse.tables.get("contact")
    assert info is not None
    assert (info.logical_name, info.entity_set_name) == ("contact", "contacts")
    assert info.primary_id_attribute == "contactid"
    assert info.primary_name_attribute == "fullname"
    keys = dataverse.tables.get_alternate_keys("contact")
    assert [list(k.key_attributes) for k in keys] == [["msdynce_contactnumber"]]
    columns = {c["LogicalName"]: c for c in dataverse.tables.list_columns("contact")}
    assert {"contactid", "firstname", "lastname", "parentcustomerid"} <= set(columns)
    assert columns["lastname"]["AttributeType"] == "String"
    lastname = dataverse.tables.get_column("contact", "lastname")
    assert lastname is not None
    assert (lastname["MaxLength"], lastname["IsValidForCreate"]) == (50, True)
    assert lastname["@odata.type"] == "#Microsoft.Dynamics.CRM.StringAttributeMetadata"
    listed = {
        t["LogicalName"]: t for t in dataverse.tables.list(select=["LogicalName", "EntitySetName"])
    }
    assert listed["contact"]["EntitySetName"] == "contacts"
    assert {"account", "contact"} <= set(listed)
    assert dataverse.tables.get("nosuchtable") is None


def test_formatted_values_on_request(dataverse: DataverseClient, sales_tls: SandboxHandle) -> None:
    contactid = _post_contact(sales_tls, firstname="Opt", lastname="Set", accountrolecode=1)
    result = (
        dataverse.query.builder("contact")
        .select("accountrolecode")
        .where(col("contactid") == uuid.UUID(contactid))
        .include_formatted_values()
        .execute()
    )
    (record,) = list(result)
    assert record["accountrolecode"] == 1
    assert record["accountrolecode@OData.Community.Display.V1.FormattedValue"] == "Decision Maker"


def test_a_guid_compared_with_a_string_literal_is_refused(
    dataverse: DataverseClient, sales_tls: SandboxHandle
) -> None:
    """The SDK quotes a ``str`` (its docs say to pass a ``uuid.UUID`` for a GUID column), and
    Dataverse refuses ``contactid eq '<guid>'`` as an Edm.Guid/Edm.String comparison."""
    contactid = _post_contact(sales_tls, firstname="Quoted", lastname="Guid")
    with pytest.raises(HttpError) as refused:
        dataverse.records.list("contact", filter=col("contactid") == contactid)
    assert refused.value.status_code == 400
    assert "Edm.Guid" in str(refused.value)
    # the error keeps the SDK's response (and its TLS connection) alive: without this the
    # module's sandbox waits out uvicorn's 5 s graceful shutdown for it
    del refused
