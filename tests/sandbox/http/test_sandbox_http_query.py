"""Reading through OData: $select $filter $orderby $top $count $expand, keyset paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sandbox_http_support import Op, error_message, post_batch

from integrator.sandbox.testing import SandboxHandle


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def _create_accounts(client: httpx.Client, root: str, n: int) -> None:
    for start in range(0, n, 1000):
        ops: list[Op | list[Op]] = [
            Op(
                "POST",
                "accounts",
                {
                    "name": f"Account {i:05d}",
                    "accountnumber": f"A{i:05d}",
                    "address1_city": ["Seattle", "Berlin", None][i % 3],
                },
            )
            for i in range(start, min(n, start + 1000))
        ]
        response = post_batch(client, root, ops)
        assert response.status_code == 200, response.text[:500]


def _read_all(client: httpx.Client, url: str, page_size: int) -> tuple[list[dict[str, Any]], int]:
    records: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        r = client.get(next_url, headers={"Prefer": f"odata.maxpagesize={page_size}"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["value"]) <= page_size
        records += body["value"]
        pages += 1
        next_url = body.get("@odata.nextLink")
    return records, pages


def test_service_document_lists_entity_sets(sandbox: SandboxHandle, client: httpx.Client) -> None:
    body = client.get(sandbox.sales).json()
    names = {item["name"] for item in body["value"]}
    assert {"accounts", "contacts", "quotes", "salesorders", "invoices"} <= names


def test_pages_through_every_row_once_with_next_links(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    _create_accounts(client, sandbox.sales, 2300)
    records, pages = _read_all(client, sandbox.sales + "accounts?$select=accountnumber", 500)
    assert pages == 5
    numbers = [r["accountnumber"] for r in records]
    assert len(numbers) == 2300 and len(set(numbers)) == 2300

    r = client.get(sandbox.sales + "accounts", headers={"Prefer": "odata.maxpagesize=100"})
    assert r.headers["Preference-Applied"] == "odata.maxpagesize=100"
    assert "$skiptoken=" in r.json()["@odata.nextLink"]


def test_paging_in_a_descending_order_over_a_nullable_column(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    _create_accounts(client, sandbox.sales, 100)
    url = sandbox.sales + "accounts?$select=accountnumber,address1_city&$orderby=address1_city desc"
    records, pages = _read_all(client, url, 7)
    assert pages == 15
    cities = [r["address1_city"] for r in records]
    assert cities == ["Seattle"] * 34 + ["Berlin"] * 33 + [None] * 33
    assert len({r["accountnumber"] for r in records}) == 100


def test_page_size_is_capped_at_the_service_maximum(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    _create_accounts(client, sandbox.sales, 5001)
    r = client.get(sandbox.sales + "accounts?$select=name")
    assert len(r.json()["value"]) == 5000 and "@odata.nextLink" in r.json()
    r = client.get(
        sandbox.sales + "accounts?$select=name", headers={"Prefer": "odata.maxpagesize=9000"}
    )
    assert len(r.json()["value"]) == 5000
    assert r.headers["Preference-Applied"] == "odata.maxpagesize=5000"


def test_select_filter_orderby_top_count(sandbox: SandboxHandle, client: httpx.Client) -> None:
    _create_accounts(client, sandbox.sales, 30)
    r = client.get(
        sandbox.sales + "accounts",
        params={
            "$select": "name,address1_city",
            "$filter": "address1_city eq 'berlin' and startswith(name, 'Account 0000')",
            "$orderby": "name desc",
            "$count": "true",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    # Berlin is every third account from 1; 'Account 0000' prefixes accounts 0-9
    assert body["@odata.count"] == 3
    assert [v["name"] for v in body["value"]] == ["Account 00007", "Account 00004", "Account 00001"]
    # Dataverse always adds the primary key and the etag to what $select names
    assert set(body["value"][0]) == {"@odata.etag", "name", "address1_city", "accountid"}
    assert body["@odata.context"].endswith("$metadata#accounts(name,address1_city)")

    r = client.get(sandbox.sales + "accounts", params={"$top": "3", "$orderby": "name"})
    body = r.json()
    assert [v["name"] for v in body["value"]] == ["Account 00000", "Account 00001", "Account 00002"]
    assert "@odata.nextLink" not in body

    r = client.get(sandbox.sales + "accounts/$count", params={"$filter": "address1_city eq null"})
    assert r.text == "10"


def test_top_larger_than_a_page_stops_at_top(sandbox: SandboxHandle, client: httpx.Client) -> None:
    # F&O pages through $top; Dataverse ignores $top beside odata.maxpagesize ("Page results
    # using OData": "If you include both, $top is ignored")
    records, pages = _read_all(client, sandbox.finops + "AddressCountryRegions?$top=23", 10)
    assert len(records) == 23 and pages == 3
    _create_accounts(client, sandbox.sales, 50)
    records, pages = _read_all(client, sandbox.sales + "accounts?$top=23&$select=name", 10)
    assert len(records) == 50 and pages == 5
    r = client.get(sandbox.sales + "accounts?$top=23&$select=name")
    assert len(r.json()["value"]) == 23 and "@odata.nextLink" not in r.json()


def test_expand_a_lookup_and_read_lookup_annotations(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = client.post(sandbox.sales + "accounts", json={"name": "Fabrikam", "accountnumber": "F-1"})
    account_url = r.headers["OData-EntityId"]
    account_id = account_url.rsplit("(", 1)[1].rstrip(")")
    r = client.post(
        sandbox.sales + "contacts",
        json={
            "firstname": "Ann",
            "lastname": "Lee",
            "parentcustomerid_account@odata.bind": f"/accounts({account_id})",
        },
    )
    assert r.status_code == 204, r.text
    client.post(sandbox.sales + "contacts", json={"lastname": "Alone"})

    r = client.get(
        sandbox.sales + "contacts",
        params={
            "$select": "lastname,_parentcustomerid_value",
            "$expand": "parentcustomerid_account($select=accountnumber,name)",
            "$orderby": "lastname",
        },
        headers={"Prefer": 'odata.include-annotations="*"'},
    )
    assert r.status_code == 200, r.text
    alone, lee = r.json()["value"]
    assert lee["_parentcustomerid_value"] == account_id
    assert lee["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"
    expanded = lee["parentcustomerid_account"]
    assert {k: expanded[k] for k in ("accountnumber", "name", "accountid")} == {
        "accountnumber": "F-1",
        "name": "Fabrikam",
        "accountid": account_id,
    }
    assert alone["parentcustomerid_account"] is None
    assert alone["_parentcustomerid_value"] is None

    plain = client.get(sandbox.sales + "contacts", params={"$select": "_parentcustomerid_value"})
    assert not any("@Microsoft" in k for v in plain.json()["value"] for k in v)

    r = client.get(
        sandbox.sales + "contacts",
        params={
            "$filter": "parentcustomerid_account/accountnumber eq 'F-1'",
            "$select": "lastname",
        },
    )
    assert [v["lastname"] for v in r.json()["value"]] == ["Lee"]


def test_string_filters_are_case_insensitive(sandbox: SandboxHandle, client: httpx.Client) -> None:
    client.post(sandbox.sales + "accounts", json={"name": "Contoso Ltd"})
    for expr in ("name eq 'CONTOSO LTD'", "contains(name, 'toso l')", "endswith(name,'LTD')"):
        r = client.get(sandbox.sales + "accounts", params={"$filter": expr})
        assert len(r.json()["value"]) == 1, expr


def test_unknown_query_option_names_it(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.get(sandbox.sales + "accounts", params={"$apply": "groupby((name))"})
    assert r.status_code == 400
    assert "$apply" in error_message(r)


def test_seeded_fixture_reads_the_seeded_contacts(sandbox_seeded: SandboxHandle) -> None:
    from integrator.sandbox.testing import SEEDED_CONTACTS

    r = httpx.get(sandbox_seeded.sales + "contacts/$count", timeout=30)
    assert r.text == str(SEEDED_CONTACTS)
    r = httpx.get(
        sandbox_seeded.sales + "contacts",
        params={
            "$select": "msdynce_contactnumber",
            "$filter": "msdynce_iscompanyanaccount eq true",
            "$expand": "parentcustomerid_account($select=accountnumber)",
        },
        timeout=30,
    )
    values = r.json()["value"]
    assert values and all(v["parentcustomerid_account"]["accountnumber"] for v in values)


def test_datetime_filters_compare_instants(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.post(
        sandbox.sales + "accounts",
        json={"name": "Dated"},
        headers={"Prefer": "return=representation"},
    )
    created = r.json()["createdon"]
    assert created.endswith("Z") and len(created) == len("2024-01-02T03:04:05.000Z")
    whole_second = created[:19] + "Z"
    same_instant_elsewhere = created[:19] + ".000+00:00"

    def names(expr: str) -> list[str]:
        got = client.get(sandbox.sales + "accounts", params={"$filter": expr})
        assert got.status_code == 200, got.text
        return [v["name"] for v in got.json()["value"]]

    assert names(f"createdon ge {whole_second}") == ["Dated"]
    assert names(f"createdon le {created}") == ["Dated"]
    assert names(f"createdon ge {same_instant_elsewhere}") == ["Dated"]
    assert names("createdon lt 2000-01-01T00:00:00+01:00") == []
    assert names("createdon gt 2000-01-01") == ["Dated"]
