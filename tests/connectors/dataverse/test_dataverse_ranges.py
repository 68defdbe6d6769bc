"""Dataverse full reads cut into ``createdon`` ranges, against the sandbox over HTTP."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest

from integrator.connectors.base import Outcome, RangePage, Record
from integrator.connectors.dataverse import DataverseConnector
from integrator.connectors.dataverse.ranges import record_count, resume_condition
from integrator.sandbox.stores.seed import seed_sales
from integrator.sandbox.testing import SandboxHandle

from .conftest import MakeConnector
from .helpers import KEY, contacts

FIELDS = ["contactid", "lastname", "firstname", "parentcustomerid", "parentcustomerid.name"]


def ranges_of(bounds: list[Any]) -> list[tuple[Any, Any]]:
    """The ``(lower, upper)`` pairs that ``bounds`` cut a table into."""
    edges = [None, *bounds, None]
    return list(pairwise(edges))


def read_everything(connector: DataverseConnector, fields: list[str]) -> list[Record]:
    return [r for page in connector.read("contacts", fields) for r in page]


def pages_of(
    connector: DataverseConnector, fields: list[str], lower: Any, upper: Any, after: Any = None
) -> list[RangePage]:
    return list(connector.read_range("contacts", fields, lower=lower, upper=upper, after=after))


def test_the_connector_offers_key_ranges(sales: DataverseConnector) -> None:
    assert sales.capabilities.key_ranges


def test_bounds_cut_3000_contacts_into_3_time_windows_of_about_1000(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    seed_sales(sandbox.data_dir, accounts=50, contacts=3000, random_seed=11)

    name, bounds = sales.key_bounds("contacts", 1000) or ("", [])

    assert name == "createdon"
    assert len(bounds) == 2
    assert bounds == sorted(bounds)
    assert [datetime.fromisoformat(b) for b in bounds] == sorted(
        datetime.fromisoformat(b) for b in bounds
    )
    assert all(b.endswith("Z") and len(b) == len(bounds[0]) for b in bounds)
    sizes = [
        sum(len(p.records) for p in pages_of(sales, ["contactid"], lo, hi))
        for lo, hi in ranges_of(bounds)
    ]
    assert sum(sizes) == 3000
    assert all(600 <= size <= 1400 for size in sizes), sizes
    assert sales.key_bounds("contacts", 3000) == ("createdon", [])


def test_the_record_count_is_one_request_and_the_bounds_three(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    seed_sales(sandbox.data_dir, accounts=10, contacts=1200, random_seed=2)
    sales.describe("contacts")
    sandbox.reset_request_counts()

    assert record_count(sales, "contacts") == 1200
    assert sandbox.request_counts()["total"] == 1

    sandbox.reset_request_counts()
    sales.key_bounds("contacts", 500)
    # the count, the earliest and the latest createdon
    assert sandbox.request_counts()["total"] == 3


def test_an_empty_table_has_no_bounds(sales: DataverseConnector) -> None:
    assert sales.key_bounds("contacts", 10) == ("createdon", [])
    assert pages_of(sales, ["contactid"], None, None) == []


def test_the_ranges_give_every_record_once_as_read_gives_it(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    seed_sales(sandbox.data_dir, accounts=60, contacts=2500, random_seed=4)
    sales = make_connector(page_size=300)
    _, bounds = sales.key_bounds("contacts", 700) or ("", [])
    assert len(bounds) == 3

    got = [
        record
        for lower, upper in ranges_of(bounds)
        for page in pages_of(sales, FIELDS, lower, upper)
        for record in page.records
    ]

    expected = read_everything(sales, FIELDS)
    assert len(got) == len(expected) == 2500
    assert Counter(r["contactid"] for r in got) == Counter(r["contactid"] for r in expected)
    by_id = {r["contactid"]: r for r in expected}
    assert all(record == by_id[record["contactid"]] for record in got)
    assert all(set(record) == set(FIELDS) for record in got)
    assert sum(1 for r in got if r["parentcustomerid.name"]) > 300


def test_pages_end_on_a_whole_createdon_and_are_in_createdon_order(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    seed_sales(sandbox.data_dir, accounts=10, contacts=600, random_seed=8)
    sales = make_connector(page_size=7)  # the seed's runs of one instant are up to 20 rows
    fields = ["contactid", "createdon"]

    pages = pages_of(sales, fields, None, None)

    records = [r for p in pages for r in p.records]
    assert len(records) == 600
    stamps = [r["createdon"] for r in records]
    assert stamps == sorted(stamps)
    assert any(count > 7 for count in Counter(stamps).values())
    for index, page in enumerate(pages):
        assert page.last == page.records[-1]["createdon"]
        later = [r["createdon"] for p in pages[index + 1 :] for r in p.records]
        assert page.last not in later
    assert any(len(p.records) != 7 for p in pages[:-1])


def test_resuming_after_a_pages_last_gives_exactly_the_rest(
    sandbox: SandboxHandle, make_connector: MakeConnector
) -> None:
    seed_sales(sandbox.data_dir, accounts=10, contacts=1500, random_seed=9)
    sales = make_connector(page_size=100)
    _, bounds = sales.key_bounds("contacts", 600) or ("", [])
    lower, upper = ranges_of(bounds)[1]
    pages = pages_of(sales, FIELDS, lower, upper)
    assert len(pages) >= 4

    for index in (0, len(pages) // 2, len(pages) - 2):
        rest = pages_of(sales, FIELDS, lower, upper, after=pages[index].last)
        assert [r for p in rest for r in p.records] == [
            r for p in pages[index + 1 :] for r in p.records
        ]
    assert pages_of(sales, FIELDS, lower, upper, after=pages[-1].last) == []


def test_createdon_is_read_for_the_cut_but_not_returned(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    seed_sales(sandbox.data_dir, accounts=5, contacts=40, random_seed=1)

    pages = pages_of(sales, ["lastname"], None, None)

    assert all(set(r) == {"lastname"} for p in pages for r in p.records)
    assert all(isinstance(p.last, str) and p.last.endswith("Z") for p in pages)


@pytest.mark.parametrize(
    "taken_for",
    [None, ["msdynce_contactnumber", "lastname", "parentcustomerid.name"]],
    ids=["any-fields", "the-fields-read"],
)
def test_a_change_after_the_checkpoint_is_exactly_what_read_changes_gives(
    sandbox: SandboxHandle, sales: DataverseConnector, taken_for: list[str] | None
) -> None:
    seed_sales(sandbox.data_dir, accounts=10, contacts=300, random_seed=6)
    fields = ["msdynce_contactnumber", "lastname", "parentcustomerid.name"]

    checkpoint = sales.change_checkpoint("contacts", taken_for)
    assert checkpoint is not None
    [result] = sales.upsert("contacts", contacts(1, start=900), key=KEY)
    assert result.outcome == Outcome.INSERTED

    batches = list(sales.read_changes("contacts", fields, checkpoint=checkpoint))

    assert [r for b in batches for r in b.records] == [
        {
            "msdynce_contactnumber": "CON-00900-T",
            "lastname": "O'Brien 900",
            "parentcustomerid.name": None,
        }
    ]
    assert [d for b in batches for d in b.deleted] == []


def test_a_resume_point_in_whole_seconds_goes_on_at_the_next_second() -> None:
    # Dataverse may write createdon in whole seconds: rows later in that second were read
    assert resume_condition("createdon", "2024-01-02T03:04:59Z") == (
        "createdon ge 2024-01-02T03:05:00Z"
    )
    assert resume_condition("createdon", "2024-01-02T03:04:05.120Z") == (
        "createdon gt 2024-01-02T03:04:05.120Z"
    )


def test_cds_tables_with_a_composite_key_read_by_range_too(make_connector: MakeConnector) -> None:
    cds = make_connector("cds", page_size=4)
    key = ["Organization_OrganizationId", "ContactId"]
    people = [
        {"Organization_OrganizationId": "ORG001", "ContactId": f"C'{n}&", "LastName": f"L{n}"}
        for n in range(25)
    ]
    assert all(r.outcome == Outcome.INSERTED for r in cds.upsert("contacts", people, key=key))

    name, bounds = cds.key_bounds("contacts", 10) or ("", [])
    got = [
        r
        for lower, upper in ranges_of(bounds)
        for page in cds.read_range("contacts", [*key, "LastName"], lower=lower, upper=upper)
        for r in page.records
    ]

    assert name == "createdon"
    assert sorted(r["ContactId"] for r in got) == sorted(p["ContactId"] for p in people)


def test_a_bound_that_is_not_a_date_is_refused_before_anything_is_sent(
    sales: DataverseConnector,
) -> None:
    with pytest.raises(ValueError, match="not an ISO-8601"):
        list(sales.read_range("contacts", ["lastname"], lower="yesterday", upper=None))
