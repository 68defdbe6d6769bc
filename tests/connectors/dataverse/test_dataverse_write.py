"""Dataverse upserts and deletes against the sandbox: economy, partial batches, escaping, faults,
the request budget."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from integrator.connectors.base import Outcome
from integrator.connectors.dataverse import DataverseConnector
from integrator.sandbox.testing import SandboxHandle

from .conftest import MakeConnector
from .helpers import KEY, calls, contacts, read_all, read_all_accounts


def test_upserting_2500_takes_3_batches_and_1_existence_read_then_skips_unchanged(
    sandbox: SandboxHandle, sales: DataverseConnector, make_connector: MakeConnector
) -> None:
    records = contacts(2500)
    sales.describe("contacts")
    sandbox.reset_request_counts()

    first = sales.upsert("contacts", records, key=KEY)

    total, operations = calls(sandbox)
    # 1 GET reading the first 250 keys (none stored: an initial load) + 3 $batch of PATCHes
    assert total == 4 and operations == {"PATCH": 2500}
    assert Counter(r.outcome for r in first) == {Outcome.INSERTED: 2500}
    assert [dict(r.key) for r in first] == [{k: rec[k] for k in KEY} for rec in records]

    rerun = make_connector()  # a later run: its own connector
    rerun.describe("contacts")
    sandbox.reset_request_counts()
    second = rerun.upsert("contacts", records, key=KEY)
    total, operations = calls(sandbox)
    # the first 250 keys in a GET (stored: not a load), then the other 2250 in one $batch
    assert total == 2 and operations == {"GET": 9}
    assert Counter(r.outcome for r in second) == {Outcome.UNCHANGED: 2500}

    changed = [dict(r) for r in records]
    for n in (7, 1200, 2499):
        changed[n]["lastname"] = f"Changed {n}"
    sandbox.reset_request_counts()
    third = rerun.upsert("contacts", changed, key=KEY)
    total, operations = calls(sandbox)
    assert total == 2 and operations["PATCH"] == 3
    assert [i for i, r in enumerate(third) if r.outcome is Outcome.UPDATED] == [7, 1200, 2499]
    stored = {
        r["msdynce_contactnumber"]: r
        for r in read_all(sales, ["msdynce_contactnumber", "lastname", "firstname"])
    }
    assert len(stored) == 2500
    assert stored["CON-01200-T"]["lastname"] == "Changed 1200"
    assert stored["CON-01201-T"]["firstname"] == "Ann"


def test_an_initial_load_reads_only_before_its_first_call(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    sales.upsert("contacts", contacts(2500), key=KEY)  # read: nothing stored
    sandbox.reset_request_counts()

    second = sales.upsert("contacts", contacts(2500, start=2500), key=KEY)

    total, operations = calls(sandbox)
    assert total == 3 and operations == {"PATCH": 2500}  # create-only, no read
    assert Counter(r.outcome for r in second) == {Outcome.INSERTED: 2500}

    # a guess gone wrong: 1000 of these exist (unchanged), 500 are new
    sandbox.reset_request_counts()
    third = sales.upsert("contacts", contacts(1500, start=4000), key=KEY)
    total, operations = calls(sandbox)
    assert total == 3 and operations == {"PATCH": 1500, "GET": 4}  # 2 batches, then 1 read
    assert [r.outcome for r in third] == [Outcome.UNCHANGED] * 1000 + [Outcome.INSERTED] * 500

    # and reads come first again
    sandbox.reset_request_counts()
    changed = [dict(r, lastname="New name") for r in contacts(100)]
    fourth = sales.upsert("contacts", changed, key=KEY)
    assert calls(sandbox) == (2, {"PATCH": 100})  # a plain GET, then one batch
    assert Counter(r.outcome for r in fourth) == {Outcome.UPDATED: 100}
    assert len(read_all(sales, ["contactid"])) == 5500


def test_a_partly_rejected_batch_reports_each_bad_record_and_writes_the_rest(
    sales: DataverseConnector,
) -> None:
    records = contacts(300)
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
    stored = {r["msdynce_contactnumber"] for r in read_all(sales, ["msdynce_contactnumber"])}
    assert len(stored) == 297 and "CON-00010-T" not in stored


@pytest.mark.parametrize("number", ["CON-O'Brien", "A&B#1/2?x=%20", "Zoë Müller", "ends-with-'"])
def test_keys_with_special_characters_round_trip(sales: DataverseConnector, number: str) -> None:
    record = {"msdynce_contactnumber": number, "lastname": number}

    assert sales.upsert("contacts", [record], key=KEY)[0].outcome is Outcome.INSERTED
    assert sales.upsert("contacts", [record], key=KEY)[0].outcome is Outcome.UNCHANGED
    quoted = number.replace("'", "''")
    got = read_all(
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
    assert read_all(sales, ["lastname"]) == [{"lastname": "second"}]


def test_without_the_existence_read_status_codes_tell_inserts_from_updates(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    connector = make_connector(skip_unchanged=False)
    records = contacts(1500)
    connector.describe("contacts")
    sandbox.reset_request_counts()

    first = connector.upsert("contacts", records, key=KEY)
    second = connector.upsert("contacts", records[:10] + contacts(5, start=5000), key=KEY)

    assert sandbox.request_counts()["total"] == 3  # 2 batches, then 1; no reads
    assert Counter(r.outcome for r in first) == {Outcome.INSERTED: 1500}
    assert [r.outcome for r in second] == [Outcome.UPDATED] * 10 + [Outcome.INSERTED] * 5


def test_lookups_bound_by_id_compare_as_unchanged(sales: DataverseConnector) -> None:
    sales.upsert("accounts", [{"accountnumber": "ACC-9", "name": "A"}], key=["accountnumber"])
    account_id = read_all_accounts(sales)[0]["accountid"]
    record = {
        "msdynce_contactnumber": "CON-B",
        "lastname": "Bound",
        "parentcustomerid_account@odata.bind": f"/accounts({account_id.upper()})",
    }

    assert sales.upsert("contacts", [record], key=KEY)[0].outcome is Outcome.INSERTED
    assert sales.upsert("contacts", [record], key=KEY)[0].outcome is Outcome.UNCHANGED
    got = read_all(sales, ["parentcustomerid", "parentcustomerid.accountnumber"])
    assert got == [{"parentcustomerid": account_id, "parentcustomerid.accountnumber": "ACC-9"}]


def test_delete_by_alternate_key_reports_deleted_and_already_gone(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    sales.upsert("contacts", contacts(3), key=KEY)
    keys = [{"msdynce_contactnumber": "CON-00000-T"}, {"msdynce_contactnumber": "CON-00002-T"}]
    sandbox.reset_request_counts()

    results = sales.delete("contacts", [*keys, {"msdynce_contactnumber": "CON-404"}])

    assert [r.outcome for r in results] == [Outcome.DELETED, Outcome.DELETED, Outcome.UNCHANGED]
    assert sandbox.request_counts()["total"] == 1
    assert read_all(sales, ["msdynce_contactnumber"]) == [{"msdynce_contactnumber": "CON-00001-T"}]


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
    records = contacts(3000)
    sales.describe("contacts")
    sandbox.set_faults(seed=7, **faults)

    results = sales.upsert("contacts", records, key=KEY)
    again = sales.upsert("contacts", records, key=KEY)
    read = read_all(sales, ["msdynce_contactnumber", "lastname", "firstname", "accountrolecode"])
    statuses = sandbox.request_counts()["statuses"]["sales"]
    sandbox.clear_faults()

    assert set(statuses) - {"200"}, "the faults were injected"
    assert Counter(r.outcome for r in results) == {Outcome.INSERTED: 3000}
    assert Counter(r.outcome for r in again) == {Outcome.UNCHANGED: 3000}
    assert sorted(read, key=lambda r: r["msdynce_contactnumber"]) == records
    assert len(read_all(sales, ["contactid"])) == 3000


def test_client_budget_keeps_under_the_service_protection_limit(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    # The server allows 8 requests a second, 3 at once; the two connectors share one client
    # budget of 5 a second, 2 at once (a margin: the server counts a request from its arrival
    # to the end of its answer, the client from sending to receiving).
    sandbox.set_faults(budget_requests=8, budget_window_seconds=1.0, budget_concurrent=3)
    budget = {"requests": 5, "window_seconds": 1.0, "concurrent": 2}
    sales = make_connector(budget=budget, batch_size=100)
    other = make_connector(budget=budget, batch_size=100)
    assert sales.client.budget is other.client.budget

    sales.upsert("contacts", contacts(600), key=KEY)
    other.upsert("contacts", contacts(300, start=600), key=KEY)
    statuses = sandbox.request_counts()["statuses"]["sales"]
    sandbox.clear_faults()

    assert set(statuses) == {"200"}, statuses
    assert len(read_all(sales, ["contactid"])) == 900


def test_the_servers_retry_after_is_honoured_by_everyone_on_the_budget(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    # The server allows 4 requests per second; the client's own budget would allow 6000.
    sandbox.set_faults(budget_requests=4, budget_window_seconds=1.0)
    sales = make_connector(batch_size=100, parallel_batches=3)

    results = sales.upsert("contacts", contacts(1000), key=KEY)
    statuses = sandbox.request_counts()["statuses"]["sales"]
    sandbox.clear_faults()

    assert statuses.get("429", 0) > 0
    assert sales.client.budget.waited_seconds > 0.5  # Retry-After paused the shared budget
    assert Counter(r.outcome for r in results) == {Outcome.INSERTED: 1000}
    assert len(read_all(sales, ["contactid"])) == 1000


def test_upsert_by_primary_key_guid_rejects_a_malformed_id_alone(
    sales: DataverseConnector,
) -> None:
    good = "6f1c2a44-5d0e-4a51-9a43-0b7c5d8e9f10"
    records = [
        {"contactid": good, "lastname": "By id"},
        {"contactid": "CON-1' or 1 eq 1", "lastname": "Injected"},
    ]

    results = sales.upsert("contacts", records, key=["contactid"])

    assert results[0].outcome is Outcome.INSERTED
    assert results[1].outcome is Outcome.ERROR and results[1].field == "contactid"
    assert read_all(sales, ["contactid", "lastname"]) == [{"contactid": good, "lastname": "By id"}]
