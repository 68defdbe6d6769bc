"""Dataverse reads against the sandbox: describe, paging economy, lookups, filters, garbage."""

from __future__ import annotations

import httpx
import pytest

from integrator.connectors.dataverse import DataverseConnection, DataverseConnector
from integrator.connectors.http.clients import open_client
from integrator.errors import RequestRejected, SystemFailing
from integrator.sandbox.stores.seed import seed_sales
from integrator.sandbox.testing import SandboxHandle

from .conftest import MakeConnector
from .helpers import AWKWARD, KEY, contacts, read_all


def test_describe_reads_keys_alternate_keys_lookups_and_read_only_fields(
    sales: DataverseConnector,
) -> None:
    info = sales.describe("contacts")

    assert info.key == ("contactid",)
    assert info.alternate_keys == (("msdynce_contactnumber",),)
    assert info.fields["lastname"].max_length == 50
    assert info.fields["fullname"].read_only
    assert info.fields["msdynce_isactivecustomer"].type == "boolean"
    assert info.fields["parentcustomerid"].type == "lookup"
    assert set(info.fields["parentcustomerid"].lookup_targets) == {"account", "contact"}
    with pytest.raises(RequestRejected, match="no entity set 'contactz'"):
        sales.describe("contactz")


def test_describe_cds_composite_keys_and_required_fields(make_connector: MakeConnector) -> None:
    info = make_connector("cds").describe("contacts")

    assert info.key == ("Organization_OrganizationId", "ContactId")
    assert info.fields["PrimaryAccountRole"].enum_values == (
        "DecisionMaker",
        "Employee",
        "Influencer",
    )


def test_reading_12000_contacts_at_page_5000_takes_3_requests_with_lookups_expanded(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    seed_sales(sandbox.data_dir, accounts=300, contacts=12000, random_seed=3)
    sales.describe("contacts")
    accounts = {
        r["accountid"]: r["accountnumber"]
        for page in sales.read("accounts", ["accountid", "accountnumber"])
        for r in page
    }
    sandbox.reset_request_counts()

    fields = [
        "msdynce_contactnumber",
        "lastname",
        "parentcustomerid",
        "parentcustomerid.accountnumber",
    ]
    pages = list(sales.read("contacts", fields, page_size=5000))

    assert sandbox.request_counts()["total"] == 3
    assert [len(p) for p in pages] == [5000, 5000, 2000]
    records = [r for p in pages for r in p]
    assert all(set(r) == set(fields) for r in records)
    with_account = [r for r in records if r["parentcustomerid"] in accounts]
    assert len(with_account) > 1000
    assert all(
        r["parentcustomerid.accountnumber"] == accounts[r["parentcustomerid"]] for r in with_account
    )
    others = [r for r in records if r["parentcustomerid"] not in accounts]
    assert all(r["parentcustomerid.accountnumber"] is None for r in others)


def test_filters_with_quotes_ampersands_and_hashes_are_pushed_down(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    sales.upsert("contacts", contacts(60), key=KEY)
    everything = read_all(sales, ["msdynce_contactnumber", "lastname"])
    sandbox.reset_request_counts()

    for text in AWKWARD:
        quoted = text.replace("'", "''")
        got = read_all(sales, ["lastname"], filter=f"startswith(lastname, '{quoted} ')")
        assert sorted(r["lastname"] for r in got) == sorted(
            r["lastname"] for r in everything if r["lastname"].startswith(text + " ")
        )
        assert len(got) == 10
    assert read_all(sales, ["lastname"], filter="parentcustomerid eq null and accountrolecode eq 2")
    assert sandbox.request_counts()["total"] == len(AWKWARD) + 1


def test_dataverse_query_functions_are_pushed_down_with_lookups_renamed(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    sales.upsert("contacts", contacts(30), key=KEY)
    everything = read_all(sales, ["msdynce_contactnumber", "accountrolecode", "parentcustomerid"])
    meta = sales.entity("contacts")
    text = "Microsoft.Dynamics.CRM.In(PropertyName='parentcustomerid',PropertyValues=['x'])"
    assert sales.filter_text(meta, text) == (
        "Microsoft.Dynamics.CRM.In(PropertyName='_parentcustomerid_value',PropertyValues=[\"x\"])"
    )
    sandbox.reset_request_counts()
    text = 'Microsoft.Dynamics.CRM.In(PropertyName=\'accountrolecode\',PropertyValues=["1","3"])'
    got = read_all(sales, ["msdynce_contactnumber"], filter=text)
    expected = {r["msdynce_contactnumber"] for r in everything if r["accountrolecode"] in (1, 3)}
    assert {r["msdynce_contactnumber"] for r in got} == expected and expected
    assert sandbox.request_counts()["total"] == 1


def test_a_server_answering_html_gets_a_clear_error(sales: DataverseConnector) -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html><body>Sign in to your account</body></html>")

    connection = DataverseConnection(url="http://127.0.0.1:9/api/data/v9.2/")
    broken = DataverseConnector(
        open_client(connection, transport=httpx.MockTransport(html)), connection
    )
    with pytest.raises(SystemFailing) as caught:  # not OData: the system cannot be used
        broken.describe("contacts")
    assert "http://127.0.0.1:9/api/data/v9.2/$metadata" in str(caught.value)
    assert "not a CSDL" in str(caught.value)
    assert caught.value.exit_code == 3
