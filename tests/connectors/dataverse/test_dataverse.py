"""The Dataverse connector against the sandbox's Sales and CDS, over loopback HTTP."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from integrator.connectors.base import Outcome, Record
from integrator.connectors.dataverse import DataverseConnector
from integrator.errors import BadResponseError, RequestRejected
from integrator.sandbox.stores.seed import seed_sales
from integrator.sandbox.testing import SandboxHandle

from .conftest import MakeConnector

KEY = ["msdynce_contactnumber"]
AWKWARD = ["O'Brien", "Smith & Sons", "#1 / 2", "50% off?", "a+b=c", "Zoë 'Z' Müller"]


def _contacts(count: int, start: int = 0) -> list[Record]:
    return [
        {
            "msdynce_contactnumber": f"CON-{n:05d}-T",
            "firstname": "Ann" if n % 2 else None,
            "lastname": f"{AWKWARD[n % len(AWKWARD)]} {n}",
            "accountrolecode": 1 + n % 3,
        }
        for n in range(start, start + count)
    ]


def _calls(sandbox: SandboxHandle) -> tuple[int, dict[str, int]]:
    counts = sandbox.request_counts()
    return counts["total"], counts["batch_operations"].get("sales", {})


def _read_all(connector: DataverseConnector, fields: list[str], **kw: Any) -> list[Record]:
    return [r for page in connector.read("contacts", fields, **kw) for r in page]


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
    sales.upsert("contacts", _contacts(60), key=KEY)
    everything = _read_all(sales, ["msdynce_contactnumber", "lastname"])
    sandbox.reset_request_counts()

    for text in AWKWARD:
        quoted = text.replace("'", "''")
        got = _read_all(sales, ["lastname"], filter=f"startswith(lastname, '{quoted} ')")
        assert sorted(r["lastname"] for r in got) == sorted(
            r["lastname"] for r in everything if r["lastname"].startswith(text + " ")
        )
        assert len(got) == 10
    assert _read_all(
        sales, ["lastname"], filter="parentcustomerid eq null and accountrolecode eq 2"
    )
    assert sandbox.request_counts()["total"] == len(AWKWARD) + 1


def test_upserting_2500_takes_3_batches_and_1_existence_read_then_skips_unchanged(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    records = _contacts(2500)
    sales.describe("contacts")
    sandbox.reset_request_counts()

    first = sales.upsert("contacts", records, key=KEY)

    total, operations = _calls(sandbox)
    assert total == 4  # 1 $batch of key-filtered GETs + 3 $batch of PATCHes
    assert operations["PATCH"] == 2500
    assert Counter(r.outcome for r in first) == {Outcome.INSERTED: 2500}
    assert [dict(r.key) for r in first] == [{k: rec[k] for k in KEY} for rec in records]

    sandbox.reset_request_counts()
    second = sales.upsert("contacts", records, key=KEY)
    total, operations = _calls(sandbox)
    assert total == 1 and "PATCH" not in operations
    assert Counter(r.outcome for r in second) == {Outcome.UNCHANGED: 2500}

    changed = [dict(r) for r in records]
    for n in (7, 1200, 2499):
        changed[n]["lastname"] = f"Changed {n}"
    sandbox.reset_request_counts()
    third = sales.upsert("contacts", changed, key=KEY)
    total, operations = _calls(sandbox)
    assert total == 2 and operations["PATCH"] == 3
    assert [i for i, r in enumerate(third) if r.outcome is Outcome.UPDATED] == [7, 1200, 2499]
    stored = {
        r["msdynce_contactnumber"]: r
        for r in _read_all(sales, ["msdynce_contactnumber", "lastname", "firstname"])
    }
    assert len(stored) == 2500
    assert stored["CON-01200-T"]["lastname"] == "Changed 1200"
    assert stored["CON-01201-T"]["firstname"] == "Ann"


def test_a_partly_rejected_batch_reports_each_bad_record_and_writes_the_rest(
    sales: DataverseConnector,
) -> None:
    records = _contacts(300)
    records[10]["lastname"] = "x" * 51
    records[20]["accountrolecode"] = 9
    records[30]["msdynce_contactnumber"] = ""

    results = sales.upsert("contacts", records, key=KEY)

    bad = {i: r for i, r in enumerate(results) if r.outcome is Outcome.ERROR}
    assert set(bad) == {10, 20, 30}
    assert bad[10].field == "lastname" and bad[10].message
    assert bad[20].field == "accountrolecode" and bad[20].message
    assert bad[30].field == "msdynce_contactnumber"
    assert dict(bad[10].key) == {"msdynce_contactnumber": "CON-00010-T"}
    assert Counter(r.outcome for r in results)[Outcome.INSERTED] == 297
    stored = {r["msdynce_contactnumber"] for r in _read_all(sales, ["msdynce_contactnumber"])}
    assert len(stored) == 297 and "CON-00010-T" not in stored


@pytest.mark.parametrize("number", ["CON-O'Brien", "A&B#1/2?x=%20", "Zoë Müller", "ends-with-'"])
def test_keys_with_special_characters_round_trip(sales: DataverseConnector, number: str) -> None:
    record = {"msdynce_contactnumber": number, "lastname": number}

    assert sales.upsert("contacts", [record], key=KEY)[0].outcome is Outcome.INSERTED
    assert sales.upsert("contacts", [record], key=KEY)[0].outcome is Outcome.UNCHANGED
    quoted = number.replace("'", "''")
    got = _read_all(
        sales, ["msdynce_contactnumber", "lastname"], filter=f"msdynce_contactnumber eq '{quoted}'"
    )
    assert got == [record]


def test_repeated_keys_in_one_call_are_written_in_order(sales: DataverseConnector) -> None:
    records = [
        {"msdynce_contactnumber": "CON-1", "lastname": "first"},
        {"msdynce_contactnumber": "con-1", "lastname": "second"},
    ]

    results = sales.upsert("contacts", records, key=KEY)

    assert [r.outcome for r in results] == [Outcome.INSERTED, Outcome.UPDATED]
    assert _read_all(sales, ["lastname"]) == [{"lastname": "second"}]


def test_without_the_existence_read_status_codes_tell_inserts_from_updates(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    connector = make_connector(skip_unchanged=False)
    records = _contacts(1500)
    connector.describe("contacts")
    sandbox.reset_request_counts()

    first = connector.upsert("contacts", records, key=KEY)
    second = connector.upsert("contacts", records[:10] + _contacts(5, start=5000), key=KEY)

    assert sandbox.request_counts()["total"] == 3  # 2 batches, then 1; no reads
    assert Counter(r.outcome for r in first) == {Outcome.INSERTED: 1500}
    assert [r.outcome for r in second] == [Outcome.UPDATED] * 10 + [Outcome.INSERTED] * 5


def test_change_tracking_returns_changes_deletions_and_expires(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    accounts = [{"accountnumber": "ACC-1", "name": "Fabrikam & Co"}]
    sales.upsert("accounts", accounts, key=["accountnumber"])
    account_id = _read_all_accounts(sales)[0]["accountid"]
    records = _contacts(30)
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
    gone = _read_all(sales, ["contactid"], filter="msdynce_contactnumber eq 'CON-00020-T'")[0]
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

    from datetime import UTC, datetime, timedelta

    from integrator.sandbox.stores import SandboxStore
    from integrator.sandbox.stores.changes import purge_tombstones

    conn = SandboxStore.open(sandbox.data_dir, with_solution=None).connect("sales")
    purge_tombstones(conn, before=datetime.now(UTC) + timedelta(days=1))
    conn.close()
    with pytest.raises(RequestRejected) as caught:
        list(sales.read_changes("contacts", fields, checkpoint=checkpoint))
    assert caught.value.code == "checkpoint-expired"


def _read_all_accounts(connector: DataverseConnector) -> list[Record]:
    return [r for p in connector.read("accounts", ["accountid", "accountnumber"]) for r in p]


@pytest.mark.parametrize(
    "faults",
    [
        {"rate_429": 0.5, "retry_after": 0},
        {"rate_500": 0.05, "rate_503": 0.05},
    ],
    ids=["429-storm", "10pct-5xx"],
)
def test_faults_end_with_the_same_data_no_duplicates_nothing_lost(
    sandbox: SandboxHandle, sales: DataverseConnector, faults: dict[str, Any]
) -> None:
    records = _contacts(3000)
    sales.describe("contacts")
    sandbox.set_faults(seed=7, **faults)

    results = sales.upsert("contacts", records, key=KEY)
    again = sales.upsert("contacts", records, key=KEY)
    read = _read_all(sales, ["msdynce_contactnumber", "lastname", "firstname", "accountrolecode"])
    statuses = sandbox.request_counts()["statuses"]["sales"]
    sandbox.clear_faults()

    assert set(statuses) - {"200"}, "the faults were injected"
    assert Counter(r.outcome for r in results) == {Outcome.INSERTED: 3000}
    assert Counter(r.outcome for r in again) == {Outcome.UNCHANGED: 3000}
    assert sorted(read, key=lambda r: r["msdynce_contactnumber"]) == records
    assert len(_read_all(sales, ["contactid"])) == 3000


def test_client_budget_keeps_under_the_service_protection_limit(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    sandbox.set_faults(budget_requests=5, budget_window_seconds=1.0, budget_concurrent=2)
    sales = make_connector(max_requests=4, window_seconds=1.0, max_concurrent=2, batch_size=100)
    other = make_connector(max_requests=4, window_seconds=1.0, max_concurrent=2, batch_size=100)
    assert sales.client.budget is other.client.budget

    sales.upsert("contacts", _contacts(600), key=KEY)
    other.upsert("contacts", _contacts(300, start=600), key=KEY)
    statuses = sandbox.request_counts()["statuses"]["sales"]
    sandbox.clear_faults()

    assert set(statuses) == {"200"}, statuses
    assert len(_read_all(sales, ["contactid"])) == 900


def test_a_server_answering_html_gets_a_clear_error(sales: DataverseConnector) -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html><body>Sign in to your account</body></html>")

    from integrator.connectors.dataverse import DataverseConfig

    broken = DataverseConnector.from_config(
        DataverseConfig(url="http://127.0.0.1:9/api/data/v9.2/"),
        transport=httpx.MockTransport(html),
    )
    with pytest.raises(BadResponseError) as caught:
        broken.describe("contacts")
    assert "http://127.0.0.1:9/api/data/v9.2/$metadata" in str(caught.value)
    assert "not a CSDL" in str(caught.value)


def test_the_servers_retry_after_is_honoured_by_everyone_on_the_budget(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    # The server allows 4 requests per second; the client's own budget would allow 6000.
    sandbox.set_faults(budget_requests=4, budget_window_seconds=1.0)
    sales = make_connector(batch_size=100, parallel_batches=3)

    results = sales.upsert("contacts", _contacts(1000), key=KEY)
    statuses = sandbox.request_counts()["statuses"]["sales"]
    sandbox.clear_faults()

    assert statuses.get("429", 0) > 0
    assert sales.client.budget.waited_seconds >= 1.0  # Retry-After paused the shared budget
    assert Counter(r.outcome for r in results) == {Outcome.INSERTED: 1000}
    assert len(_read_all(sales, ["contactid"])) == 1000


def test_delete_by_alternate_key_reports_deleted_and_already_gone(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    sales.upsert("contacts", _contacts(3), key=KEY)
    keys = [{"msdynce_contactnumber": "CON-00000-T"}, {"msdynce_contactnumber": "CON-00002-T"}]
    sandbox.reset_request_counts()

    results = sales.delete("contacts", [*keys, {"msdynce_contactnumber": "CON-404"}])

    assert [r.outcome for r in results] == [Outcome.DELETED, Outcome.DELETED, Outcome.UNCHANGED]
    assert sandbox.request_counts()["total"] == 1
    assert _read_all(sales, ["msdynce_contactnumber"]) == [{"msdynce_contactnumber": "CON-00001-T"}]


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


def test_lookups_bound_by_id_compare_as_unchanged(sales: DataverseConnector) -> None:
    sales.upsert("accounts", [{"accountnumber": "ACC-9", "name": "A"}], key=["accountnumber"])
    account_id = _read_all_accounts(sales)[0]["accountid"]
    record = {
        "msdynce_contactnumber": "CON-B",
        "lastname": "Bound",
        "parentcustomerid_account@odata.bind": f"/accounts({account_id.upper()})",
    }

    assert sales.upsert("contacts", [record], key=KEY)[0].outcome is Outcome.INSERTED
    assert sales.upsert("contacts", [record], key=KEY)[0].outcome is Outcome.UNCHANGED
    got = _read_all(sales, ["parentcustomerid", "parentcustomerid.accountnumber"])
    assert got == [{"parentcustomerid": account_id, "parentcustomerid.accountnumber": "ACC-9"}]


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
