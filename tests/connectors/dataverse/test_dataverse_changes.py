"""Dataverse change tracking against the sandbox: delta links, deletions, expiry, lookups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from integrator.connectors.base import Outcome
from integrator.connectors.dataverse import DataverseConnector
from integrator.errors import RequestRejected
from integrator.sandbox.stores import SandboxStore
from integrator.sandbox.stores.changes import purge_tombstones
from integrator.sandbox.stores.seed import seed_sales
from integrator.sandbox.testing import SandboxHandle

from .conftest import MakeConnector
from .helpers import KEY, contacts, read_all, read_all_accounts


def test_change_tracking_returns_changes_deletions_and_expires(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    accounts = [{"accountnumber": "ACC-1", "name": "Fabrikam & Co"}]
    sales.upsert("accounts", accounts, key=["accountnumber"])
    account_id = read_all_accounts(sales)[0]["accountid"]
    records = contacts(30)
    for record in records[:5]:
        record["parentcustomerid_account@odata.bind"] = f"/accounts({account_id})"
    sales.upsert("contacts", records, key=KEY)
    fields = ["msdynce_contactnumber", "lastname", "parentcustomerid.accountnumber"]

    batches = list(sales.read_changes("contacts", fields, checkpoint=None))
    checkpoint = batches[-1].checkpoint
    everything = [r for b in batches for r in b.records]
    assert checkpoint is not None and len(everything) == 30
    linked = {
        r["msdynce_contactnumber"]
        for r in everything
        if r["parentcustomerid.accountnumber"] == "ACC-1"
    }
    assert linked == {r["msdynce_contactnumber"] for r in records[:5]}

    changed = [dict(records[3], lastname="Moved"), dict(records[12], lastname="Also")]
    assert {r.outcome for r in sales.upsert("contacts", changed, key=KEY)} == {Outcome.UPDATED}
    gone = read_all(sales, ["contactid"], filter="msdynce_contactnumber eq 'CON-00020-T'")[0]
    httpx.delete(f"{sandbox.sales}contacts({gone['contactid']})").raise_for_status()

    batches = list(sales.read_changes("contacts", fields, checkpoint=checkpoint))
    assert {r["msdynce_contactnumber"]: r["lastname"] for b in batches for r in b.records} == {
        "CON-00003-T": "Moved",
        "CON-00012-T": "Also",
    }
    assert [r["parentcustomerid.accountnumber"] for b in batches for r in b.records] == [
        "ACC-1",
        None,
    ]
    assert [dict(d) for b in batches for d in b.deleted] == [{"contactid": gone["contactid"]}]
    assert batches[-1].checkpoint is not None

    conn = SandboxStore.open(sandbox.data_dir, with_solution=None).connect("sales")
    purge_tombstones(conn, before=datetime.now(UTC) + timedelta(days=1))
    conn.close()
    with pytest.raises(RequestRejected) as caught:
        list(sales.read_changes("contacts", fields, checkpoint=checkpoint))
    assert caught.value.code == "checkpoint-expired"


def test_cds_changes_name_deleted_rows_by_their_composite_key(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    cds = make_connector("cds")
    key = ["Organization_OrganizationId", "ContactId"]
    people = [
        {"Organization_OrganizationId": "ORG001", "ContactId": f"C'{n}&", "LastName": f"L{n}"}
        for n in range(5)
    ]
    cds.upsert("contacts", people, key=key)
    checkpoint = list(cds.read_changes("contacts", ["ContactId"], checkpoint=None))[-1].checkpoint

    gone = {k: people[2][k] for k in key}
    assert [r.outcome for r in cds.delete("contacts", [gone])] == [Outcome.DELETED]
    batches = list(cds.read_changes("contacts", ["ContactId"], checkpoint=checkpoint))

    assert [r for b in batches for r in b.records] == []
    assert [dict(d) for b in batches for d in b.deleted] == [
        {"Organization_OrganizationId": "ORG001", "ContactId": "C'2&"}
    ]


def test_change_pages_with_lookups_cost_one_request_each(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    seed_sales(sandbox.data_dir, accounts=300, contacts=12000, random_seed=5)
    fields = [
        "msdynce_contactnumber",
        "parentcustomerid.accountnumber",
        "parentcustomerid.fullname",
    ]
    expected = {
        r["msdynce_contactnumber"]: r for page in sales.read("contacts", fields) for r in page
    }
    sandbox.reset_request_counts()

    batches = list(sales.read_changes("contacts", fields, checkpoint=None))

    # 3 pages of 5000; each page's lookups ride along with the next page's GET, the last alone
    assert sandbox.request_counts()["total"] == 4
    got = {r["msdynce_contactnumber"]: r for b in batches for r in b.records}
    assert got == expected
    assert sum(1 for r in got.values() if r["parentcustomerid.accountnumber"]) > 1000
    assert sum(1 for r in got.values() if r["parentcustomerid.fullname"]) > 100
