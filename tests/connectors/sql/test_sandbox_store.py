"""A connection set can point SQL connections straight at the sandbox's store files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from integrator.connectors.base import Outcome
from integrator.connectors.sql import Relation, SqlConnector
from integrator.sandbox.stores import SandboxStore
from integrator.sandbox.stores.seed import seed_sales


def _customer(account: str, **changes: Any) -> dict[str, Any]:
    return {
        "dataAreaId": "USMF",
        "CustomerAccount": account,
        "PartyType": "Organization",
        "OrganizationName": f"Org {account}",
        "CustomerGroupId": "10",
        "AddressCountryRegionISOCode": "USA",
        **changes,
    }


def test_finops_store_rules_come_back_as_record_errors(tmp_path: Path) -> None:
    store = SandboxStore.open(tmp_path)
    connector = SqlConnector.from_url(f"sqlite:///{store.path('finops')}")
    try:
        info = connector.describe("CustomersV2")
        batch = [
            _customer("C-1"),
            _customer("C-2", CustomerGroupId="99"),
            _customer("C-3", AddressCountryRegionISOCode=None),
            _customer("C-4"),
        ]
        key = list(info.key)

        first = connector.upsert("CustomersV2", batch, key=key)
        again = connector.upsert("CustomersV2", batch, key=key)
        rows = [
            r
            for page in connector.read(
                "CustomersV2", ["dataAreaId", "CustomerAccount"], filter="CustomerGroupId eq '10'"
            )
            for r in page
        ]
    finally:
        connector.close()

    assert info.key == ("dataAreaId", "CustomerAccount")
    assert [(r.outcome, r.field, r.message) for r in first] == [
        (Outcome.INSERTED, None, None),
        (Outcome.ERROR, "CustomerGroupId", "CustomerGroupId '99' does not exist in company"),
        (
            Outcome.ERROR,
            "AddressCountryRegionISOCode",
            "AddressCountryRegionISOCode is required",
        ),
        (Outcome.INSERTED, None, None),
    ]
    # the store lower-cases dataAreaId and compares keys without case: still the same rows
    assert [r.outcome for r in again] == [
        Outcome.UNCHANGED,
        Outcome.ERROR,
        Outcome.ERROR,
        Outcome.UNCHANGED,
    ]
    assert rows == [
        {"dataAreaId": "usmf", "CustomerAccount": "C-1"},
        {"dataAreaId": "usmf", "CustomerAccount": "C-4"},
    ]


_PARENT_CUSTOMER = tuple(
    Relation(
        "contacts",
        "parentcustomerid",
        "parentcustomerid",
        table,
        key,
        type_column="parentcustomeridtype",
        type_value=kind,
    )
    for kind, table, key in (
        ("account", "accounts", "accountid"),
        ("contact", "contacts", "contactid"),
    )
)


def test_sales_store_lookups_and_changes(tmp_path: Path) -> None:
    seed_sales(tmp_path, accounts=40, contacts=300, random_seed=7)
    path = SandboxStore.open(tmp_path, with_solution=None).path("sales")
    connector = SqlConnector.from_url(
        f"sqlite:///{path}",
        relations=_PARENT_CUSTOMER,
        watermarks={"contacts": "versionnumber"},
        page_size=50,
    )
    fields = ["msdynce_contactnumber", "parentcustomerid.accountnumber"]
    try:
        read = [r for page in connector.read("contacts", fields) for r in page]
        batches = list(connector.read_changes("contacts", fields, checkpoint=None))
        target = read[10]["msdynce_contactnumber"]
        result = connector.upsert(
            "contacts",
            [{"msdynce_contactnumber": target, "jobtitle": "Buyer (changed)"}],
            key=["msdynce_contactnumber"],
        )
        checkpoint = batches[-1].checkpoint
        changes = list(connector.read_changes("contacts", fields, checkpoint=checkpoint))
    finally:
        connector.close()

    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        expected = dict(
            connection.exec_driver_sql(
                "SELECT c.msdynce_contactnumber, a.accountnumber FROM contacts c"
                " LEFT JOIN accounts a ON a.accountid = c.parentcustomerid"
                " AND c.parentcustomeridtype = 'account'"
            ).all()
        )
    engine.dispose()
    assert len(read) == 300
    assert {r["msdynce_contactnumber"]: r["parentcustomerid.accountnumber"] for r in read} == (
        expected
    )
    assert any(v is not None for v in expected.values())
    assert sum(len(b.records) for b in batches) == 300
    assert result[0].outcome is Outcome.UPDATED
    assert [r["msdynce_contactnumber"] for b in changes for r in b.records] == [target]
