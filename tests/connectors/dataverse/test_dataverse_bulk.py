"""The Dataverse connector writes with UpsertMultiple/CreateMultiple where the table offers them,
``$batch`` where not: records, counts, a refused record in a chunk, 429s, request counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pydantic import ValidationError

from integrator.connectors.base import Outcome
from integrator.connectors.dataverse import DataverseConnector
from integrator.connectors.registry import open_connection
from integrator.sandbox.testing import SandboxHandle

from ..connections import connection as parse
from .conftest import MakeConnector
from .helpers import KEY, contacts, read_all

_UPSERT = "/sales/api/data/v9.2/contacts/Microsoft.Dynamics.CRM.UpsertMultiple"


def _requests(sandbox: SandboxHandle) -> tuple[int, dict[str, int], dict[str, int]]:
    """(requests, operations inside $batch by method, statuses) counted for Sales."""
    counts = sandbox.request_counts()
    return (
        sum(counts["requests"].get("sales", {}).values()),
        counts["batch_operations"].get("sales", {}),
        counts["statuses"].get("sales", {}),
    )


def _stored(connector: DataverseConnector) -> dict[str, str]:
    rows = read_all(connector, ["msdynce_contactnumber", "lastname"])
    return {r["msdynce_contactnumber"]: r["lastname"] for r in rows}


def test_upserts_go_as_upsert_multiple_1000_to_a_request_and_count_right(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    sales = make_connector(bulk_messages="auto")
    sales.describe("contacts")
    records = contacts(2500)
    sandbox.reset_request_counts()

    first = sales.upsert("contacts", records, key=KEY)

    total, operations, _ = _requests(sandbox)
    # 1 GET asking the catalogue (both messages) + 1 GET reading the first 250 keys (none
    # stored: an initial load) + 3 CreateMultiple of 1000, 1000, 500
    assert total == 5
    assert operations == {}
    assert Counter(r.outcome for r in first) == {Outcome.INSERTED: 2500}
    assert len(_stored(sales)) == 2500

    changed = [dict(r) for r in records]
    for n in (3, 1999):
        changed[n]["lastname"] = f"Changed {n}"
    rerun = make_connector(bulk_messages="auto")  # a later run: its own connector
    rerun.describe("contacts")
    sandbox.reset_request_counts()
    second = rerun.upsert("contacts", changed, key=KEY)

    total, operations, _ = _requests(sandbox)
    # catalogue, the first 250 keys (stored), the other 2250 (9 GETs), 1 UpsertMultiple
    assert total == 4 and operations == {"GET": 9}
    assert Counter(r.outcome for r in second) == {Outcome.UNCHANGED: 2498, Outcome.UPDATED: 2}
    stored = _stored(sales)
    assert stored["CON-01999-T"] == "Changed 1999"
    assert stored["CON-01998-T"] == records[1998]["lastname"]


def test_an_initial_load_goes_as_create_multiple(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    sales = make_connector(bulk_messages="auto")
    sales.upsert("contacts", contacts(1000), key=KEY)  # read: nothing stored; now loading
    sandbox.reset_request_counts()

    loaded = sales.upsert("contacts", contacts(2000, start=1000), key=KEY)

    total, operations, _ = _requests(sandbox)
    assert (total, operations) == (2, {})  # 2 CreateMultiple, nothing read
    assert Counter(r.outcome for r in loaded) == {Outcome.INSERTED: 2000}

    # a guess gone wrong: CreateMultiple refuses the chunk, then a read sorts out which exist
    sandbox.reset_request_counts()
    mixed = sales.upsert("contacts", contacts(1000, start=2500), key=KEY)
    total, operations, statuses = _requests(sandbox)
    assert (total, operations) == (3, {"GET": 4}), statuses  # refused, read, upsert
    assert [r.outcome for r in mixed] == [Outcome.UNCHANGED] * 500 + [Outcome.INSERTED] * 500
    assert len(_stored(sales)) == 3500


def test_a_refused_record_fails_alone_through_the_batch_fallback(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    sales = make_connector(bulk_messages="auto")
    sales.describe("contacts")
    records = contacts(10)
    records[4]["lastname"] = "x" * 500
    sandbox.reset_request_counts()

    results = sales.upsert("contacts", records, key=KEY)

    total, operations, statuses = _requests(sandbox)
    # catalogue + read + the refused UpsertMultiple + the $batch that isolates the refusal
    assert total == 4
    assert operations == {"PATCH": 10}  # the fallback (the catalogue is a plain GET)
    assert statuses["400"] == 1
    assert [r.outcome for r in results] == [Outcome.INSERTED] * 4 + [Outcome.ERROR] + [
        Outcome.INSERTED
    ] * 5
    assert results[4].field == "lastname"
    assert results[4].message and "lastname" in results[4].message
    assert len(_stored(sales)) == 9

    # a record's refusal does not turn the bulk message off
    sandbox.reset_request_counts()
    sales.upsert("contacts", [dict(records[0], lastname="Again")], key=KEY)
    assert _requests(sandbox)[:2] == (2, {})  # a read, an UpsertMultiple


def test_429_on_upsert_multiple_is_retried_after_retry_after(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    sales = make_connector(bulk_messages="auto")
    sales.describe("contacts")
    sales.upsert("contacts", contacts(1), key=KEY)  # the catalogue and a read, before faults
    sandbox.set_faults(rate_429=0.5, retry_after=0, seed=3, services=["sales"])
    sandbox.reset_request_counts()

    results = sales.upsert("contacts", contacts(3000, start=1), key=KEY)

    sandbox.clear_faults()
    _, _, statuses = _requests(sandbox)
    assert statuses.get("429", 0) >= 1
    assert Counter(r.outcome for r in results) == {Outcome.INSERTED: 3000}
    assert len(_stored(sales)) == 3001


def test_bulk_messages_never_writes_through_batch(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    sales = make_connector(bulk_messages="never")
    sales.describe("contacts")
    sandbox.reset_request_counts()

    results = sales.upsert("contacts", contacts(1500), key=KEY)

    total, operations, _ = _requests(sandbox)
    # a GET of the first 250 keys (none stored) + 2 $batch of create-only PATCHes
    assert total == 3 and operations == {"PATCH": 1500}
    assert Counter(r.outcome for r in results) == {Outcome.INSERTED: 1500}


def test_a_table_without_the_messages_is_written_through_batch(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    handler = sandbox._server.sandbox.handlers["sales"]
    handler.bulk_message_sets = {"accounts"}
    try:
        sales = make_connector(bulk_messages="auto")
        sales.describe("contacts")
        sandbox.reset_request_counts()
        results = sales.upsert("contacts", contacts(100), key=KEY)
    finally:
        handler.bulk_message_sets = None

    total, operations, _ = _requests(sandbox)
    assert total == 3 and operations == {"PATCH": 100}  # catalogue, read, $batch
    assert Counter(r.outcome for r in results) == {Outcome.INSERTED: 100}


def test_a_message_refused_for_every_record_is_not_used_again(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    sales = make_connector(bulk_messages="auto")
    sales.upsert("contacts", contacts(1), key=KEY)  # the catalogue says: offered
    handler = sandbox._server.sandbox.handlers["sales"]
    handler.bulk_message_sets = {"accounts"}  # ... but the message answers 400
    try:
        sandbox.reset_request_counts()
        first = sales.upsert("contacts", contacts(10, start=1), key=KEY)
        refused_once = _requests(sandbox)
        sandbox.reset_request_counts()
        sales.upsert("contacts", contacts(10, start=11), key=KEY)
        afterwards = _requests(sandbox)
    finally:
        handler.bulk_message_sets = None

    assert Counter(r.outcome for r in first) == {Outcome.INSERTED: 10}
    assert refused_once[0] == 3 and refused_once[2]["400"] == 1  # read, refused, $batch
    assert afterwards[0] == 2 and "400" not in afterwards[2]  # read, $batch


def test_a_connection_can_turn_bulk_messages_off(sandbox: SandboxHandle, tmp_path: Path) -> None:
    connection = parse(kind="dataverse", url=sandbox.sales, bulk_messages="never")
    sales = open_connection(connection, tmp_path)
    assert isinstance(sales, DataverseConnector)
    try:
        sales.describe("contacts")
        sandbox.reset_request_counts()
        sales.upsert("contacts", contacts(10), key=KEY)
    finally:
        sales.close()

    total, operations, _ = _requests(sandbox)
    assert total == 2 and operations == {"PATCH": 10}  # a read and a $batch, no catalogue
    with pytest.raises(ValidationError, match="bulk_messages"):
        parse(kind="dataverse", url=sandbox.sales, bulk_messages="sometimes")
