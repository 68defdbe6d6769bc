"""The F&O connector against the sandbox's F&O service, over loopback HTTP."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from integrator.connectors.base import Outcome, Record
from integrator.connectors.finops import FinOpsConnection, FinOpsConnector
from integrator.connectors.registry import open_connection
from integrator.sandbox.testing import SandboxHandle

KEY = ["dataAreaId", "CustomerAccount"]
FIELDS = [
    "dataAreaId",
    "CustomerAccount",
    "OrganizationName",
    "CustomerGroupId",
    "AddressCountryRegionISOCode",
    "AddressCity",
    "IsExternallyMaintained",
]
NAMES = ["O'Brien Ltd", "Smith & Sons", "#1 Widgets / Gadgets", "100% Cotton?", "Star*Corp"]


def _customers(count: int, *, company: str = "usmf", start: int = 0) -> list[Record]:
    return [
        {
            "dataAreaId": company,
            "CustomerAccount": f"C{n:06d}",
            "OrganizationName": f"{NAMES[n % len(NAMES)]} {n}",
            "CustomerGroupId": ("10", "20", "30")[n % 3],
            "AddressCountryRegionISOCode": "USA",
            "AddressCity": None if n % 5 == 0 else "Seattle",
            "IsExternallyMaintained": "Yes" if n % 2 else "No",
        }
        for n in range(start, start + count)
    ]


@pytest.fixture
def make_finops(sandbox: SandboxHandle) -> Iterator[Any]:
    made: list[FinOpsConnector] = []

    def make(**config: Any) -> FinOpsConnector:
        settings: dict[str, Any] = {"retry": {"base_delay_seconds": 0.01, "attempts": 20}, **config}
        connector = open_connection(FinOpsConnection(url=sandbox.finops, **settings))
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def finops(make_finops: Any) -> FinOpsConnector:
    connector: FinOpsConnector = make_finops()
    return connector


def _load(sandbox: SandboxHandle, records: list[Record]) -> None:
    """Insert ``records`` straight into the F&O store, as another application would."""
    from integrator.sandbox.stores import SandboxStore

    columns = list(records[0])
    conn = SandboxStore.open(sandbox.data_dir, with_solution=None).connect("finops")
    with conn:
        conn.executemany(
            f"INSERT INTO CustomersV2 ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            [tuple(r[c] for c in columns) for r in records],
        )
    conn.close()


def _read(connector: FinOpsConnector, **kw: Any) -> list[Record]:
    return [r for page in connector.read("CustomersV2", FIELDS, **kw) for r in page]


def test_describe_gives_company_keys_required_fields_and_enums(finops: FinOpsConnector) -> None:
    info = finops.describe("CustomersV2")

    assert info.key == ("dataAreaId", "CustomerAccount")
    assert {"dataAreaId", "CustomerAccount", "CustomerGroupId"} <= set(info.required_fields())
    assert info.fields["IsExternallyMaintained"].type == "enum"
    assert info.fields["IsExternallyMaintained"].enum_values == ("No", "Yes")
    assert finops.describe("CDSContactPersons").key == (
        "dataAreaId",
        "ContactPersonPartyNumber",
        "AssociatedPartyNumber",
    )


def test_upsert_by_composite_key_whatever_the_company_case(
    sandbox: SandboxHandle, finops: FinOpsConnector, make_finops: Any
) -> None:
    records = _customers(2500, company="USMF")
    finops.describe("CustomersV2")
    sandbox.reset_request_counts()

    first = finops.upsert("CustomersV2", records, key=KEY)
    counts = sandbox.request_counts()
    # 1 GET reading the first 250 keys (none stored: an initial load) + 3 batches of POSTs
    assert counts["total"] == 4
    assert counts["batch_operations"]["finops"] == {"POST": 2500}
    assert Counter(r.outcome for r in first) == {Outcome.INSERTED: 2500}

    rerun: FinOpsConnector = make_finops()  # a later run: its own connector
    rerun.describe("CustomersV2")
    sandbox.reset_request_counts()
    second = rerun.upsert("CustomersV2", records, key=KEY)
    counts = sandbox.request_counts()
    # the first 250 keys in a GET (stored: not a load), then the other 2250 in one $batch
    assert counts["total"] == 2 and counts["batch_operations"]["finops"] == {"GET": 9}
    assert Counter(r.outcome for r in second) == {Outcome.UNCHANGED: 2500}

    # the first connector's read found nothing, so it now creates without reading; the
    # duplicates it meets are read and turn out unchanged
    sandbox.reset_request_counts()
    third = finops.upsert("CustomersV2", records[:10] + _customers(5, start=9000), key=KEY)
    counts = sandbox.request_counts()
    assert counts["total"] == 2 and counts["batch_operations"]["finops"] == {"POST": 15}
    assert [r.outcome for r in third] == [Outcome.UNCHANGED] * 10 + [Outcome.INSERTED] * 5

    stored = _read(finops)
    assert len(stored) == 2505 and {r["dataAreaId"] for r in stored} == {"usmf"}
    by_account = {r["CustomerAccount"]: r for r in stored}
    assert by_account["C000001"] == {**records[1], "dataAreaId": "usmf"}


def test_reading_12000_customers_takes_2_requests_at_page_10000(
    sandbox: SandboxHandle, finops: FinOpsConnector
) -> None:
    _load(sandbox, _customers(12000))
    finops.describe("CustomersV2")
    sandbox.reset_request_counts()

    pages = list(finops.read("CustomersV2", ["CustomerAccount"]))

    assert sandbox.request_counts()["total"] == 2
    assert [len(p) for p in pages] == [10000, 2000]


def test_cross_company_reads_every_company_and_without_it_only_the_default(
    make_finops: Any,
) -> None:
    everywhere: FinOpsConnector = make_finops()
    everywhere.upsert("CustomersV2", _customers(4) + _customers(3, company="demf"), key=KEY)
    default_only: FinOpsConnector = make_finops(finops={"cross_company": False})

    assert Counter(r["dataAreaId"] for r in _read(everywhere)) == {"usmf": 4, "demf": 3}
    assert Counter(r["dataAreaId"] for r in _read(default_only)) == {"usmf": 4}


def test_enum_and_awkward_string_filters_are_pushed_down(
    sandbox: SandboxHandle, finops: FinOpsConnector
) -> None:
    records = _customers(40)
    finops.upsert("CustomersV2", records, key=KEY)
    meta = finops.entity("CustomersV2")

    assert finops.filter_text(meta, "IsExternallyMaintained eq 'Yes'") == (
        "IsExternallyMaintained eq Microsoft.Dynamics.DataEntities.NoYes'Yes'"
    )
    cases = {
        "IsExternallyMaintained eq 'Yes'": lambda r: r["IsExternallyMaintained"] == "Yes",
        "OrganizationName eq 'O''Brien Ltd 10'": lambda r: (
            r["OrganizationName"] == "O'Brien Ltd 10"
        ),
        # '*' is a wildcard to F&O: checked here, not pushed down
        "OrganizationName eq 'Star*Corp 4'": lambda r: r["OrganizationName"] == "Star*Corp 4",
        "contains(OrganizationName, '*') and CustomerGroupId eq '30'": lambda r: (
            "*" in r["OrganizationName"] and r["CustomerGroupId"] == "30"
        ),
        "startswith(OrganizationName, 'Smith & Sons')": lambda r: r["OrganizationName"].startswith(
            "Smith & Sons"
        ),
        "contains(OrganizationName, '#1 Widgets /')": lambda r: (
            "#1 Widgets /" in r["OrganizationName"]
        ),
        "AddressCity eq null and CustomerGroupId eq '20'": lambda r: (
            r["AddressCity"] is None and r["CustomerGroupId"] == "20"
        ),
        # F&O has no Dataverse query functions: integrator checks them on what it reads
        "Microsoft.Dynamics.CRM.In(PropertyName='CustomerGroupId',PropertyValues=['20','30'])": (
            lambda r: r["CustomerGroupId"] in ("20", "30")
        ),
        "Microsoft.Dynamics.CRM.NotIn(PropertyName='CustomerGroupId',PropertyValues=['20'])"
        " and IsExternallyMaintained eq 'Yes'": lambda r: (
            r["CustomerGroupId"] != "20" and r["IsExternallyMaintained"] == "Yes"
        ),
    }
    for text, keep in cases.items():
        expected = {r["CustomerAccount"] for r in records if keep(r)}
        got = {r["CustomerAccount"] for r in _read(finops, filter=text)}
        assert got == expected and 0 < len(expected) < len(records), text


def test_records_refused_by_business_rules_fail_alone_with_the_field_named(
    finops: FinOpsConnector,
) -> None:
    records = _customers(200)
    records[5]["CustomerGroupId"] = "99"
    records[50]["AddressCountryRegionISOCode"] = "XYZ"
    records[150]["OrganizationName"] = "x" * 101

    results = finops.upsert("CustomersV2", records, key=KEY)

    bad = {i: r for i, r in enumerate(results) if r.outcome is Outcome.ERROR}
    assert set(bad) == {5, 50, 150}
    assert bad[5].field == "CustomerGroupId" and "99" in (bad[5].message or "")
    assert bad[50].field == "AddressCountryRegionISOCode"
    assert bad[150].field == "OrganizationName"
    assert dict(bad[5].key) == {"dataAreaId": "usmf", "CustomerAccount": "C000005"}
    assert len(_read(finops)) == 197


def test_contact_persons_keyed_by_three_fields_need_an_existing_customer(
    finops: FinOpsConnector,
) -> None:
    finops.upsert("CustomersV2", [{**_customers(1)[0], "PartyNumber": "P-1"}], key=KEY)
    key = ["dataAreaId", "ContactPersonPartyNumber", "AssociatedPartyNumber"]
    people = [
        {"dataAreaId": "usmf", "ContactPersonPartyNumber": "CP-O'1", "AssociatedPartyNumber": "P-1",
         "LastName": "O'Brien", "IsContactPersonExternallyMaintained": "Yes"},
        {"dataAreaId": "usmf", "ContactPersonPartyNumber": "CP-2", "AssociatedPartyNumber": "P-404",
         "LastName": "Nobody"},
    ]  # fmt: skip

    results = finops.upsert("CDSContactPersons", people, key=key)

    assert results[0].outcome is Outcome.INSERTED
    assert results[1].outcome is Outcome.ERROR and results[1].field == "AssociatedPartyNumber"
    again = finops.upsert("CDSContactPersons", people[:1], key=key)
    assert again[0].outcome is Outcome.UNCHANGED


def test_creates_of_existing_records_fall_back_to_updates(
    sandbox: SandboxHandle, make_finops: Any
) -> None:
    make_finops().upsert("CustomersV2", _customers(10), key=KEY)
    blind: FinOpsConnector = make_finops(skip_unchanged=False)
    changed = [dict(r, AddressCity="Redmond") for r in _customers(12)]
    blind.describe("CustomersV2")
    sandbox.reset_request_counts()

    results = blind.upsert("CustomersV2", changed, key=KEY)

    assert [r.outcome for r in results] == [Outcome.UPDATED] * 10 + [Outcome.INSERTED] * 2
    assert sandbox.request_counts()["total"] == 2  # the POSTs, then the PATCHes for the 10
    assert {r["AddressCity"] for r in _read(blind)} == {"Redmond"}


@pytest.mark.parametrize(
    "faults",
    [{"rate_429": 0.5, "retry_after": 0}, {"rate_500": 0.05, "rate_503": 0.05}],
    ids=["429-storm", "10pct-5xx"],
)
def test_faults_end_with_the_same_data(
    sandbox: SandboxHandle, make_finops: Any, faults: dict[str, Any]
) -> None:
    records = _customers(3000)
    finops = make_finops(batch_size=200)
    finops.describe("CustomersV2")
    sandbox.set_faults(seed=11, **faults)

    results = finops.upsert("CustomersV2", records, key=KEY)
    read = _read(finops)
    statuses = sandbox.request_counts()["statuses"]["finops"]
    sandbox.clear_faults()

    assert set(statuses) - {"200"}, "the faults were injected"
    assert Counter(r.outcome for r in results) == {Outcome.INSERTED: 3000}
    assert sorted(read, key=lambda r: r["CustomerAccount"]) == records


@pytest.mark.parametrize(
    ("text", "server", "checked_here"),
    [
        ("contains(OrganizationName, 'Sons')", "OrganizationName eq '*Sons*'", False),
        ("startswith(OrganizationName, 'O''B')", "OrganizationName eq 'O''B*'", False),
        ("OrganizationName eq 'Star*Corp'", None, True),
        (
            "contains(OrganizationName, '*') and CustomerGroupId eq '30'",
            "CustomerGroupId eq '30'",
            True,
        ),
        ("contains(OrganizationName, '*') or CustomerGroupId eq '30'", None, True),
        (
            "Microsoft.Dynamics.CRM.In(PropertyName='CustomerGroupId',PropertyValues=['30'])"
            " and CustomerGroupId ne '20'",
            "CustomerGroupId ne '20'",
            True,
        ),
    ],
)
def test_only_what_fo_evaluates_exactly_is_pushed_down(
    finops: FinOpsConnector, text: str, server: str | None, checked_here: bool
) -> None:
    pushed, residual = finops.dialect.plan_filter(finops.entity("CustomersV2"), text)

    assert pushed == server
    assert (residual is not None) is checked_here


def test_delete_by_composite_key_in_any_company(finops: FinOpsConnector) -> None:
    finops.upsert("CustomersV2", _customers(2) + _customers(1, company="demf"), key=KEY)

    results = finops.delete(
        "CustomersV2",
        [
            {"dataAreaId": "DEMF", "CustomerAccount": "C000000"},
            {"dataAreaId": "usmf", "CustomerAccount": "C000001"},
            {"dataAreaId": "usmf", "CustomerAccount": "C-NONE"},
        ],
    )

    assert [r.outcome for r in results] == [Outcome.DELETED, Outcome.DELETED, Outcome.UNCHANGED]
    assert [(r["dataAreaId"], r["CustomerAccount"]) for r in _read(finops)] == [("usmf", "C000000")]
