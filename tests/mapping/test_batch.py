"""Whole-batch mapping: type conversion, per-record errors, records left out, lookups."""

from __future__ import annotations

from integrator.connectors.base import EntityInfo, FieldInfo
from integrator.mapping import MappingRow, compile_mapping

CUSTOMER = EntityInfo(
    name="CustomersV2",
    fields={
        "CustomerAccount": FieldInfo("CustomerAccount", "string", max_length=20, required=True),
        "CreditLimit": FieldInfo("CreditLimit", "decimal"),
        "Employees": FieldInfo("Employees", "integer"),
        "IsExternallyMaintained": FieldInfo(
            "IsExternallyMaintained", "enum", enum_values=("No", "Yes")
        ),
        "OnHold": FieldInfo("OnHold", "boolean"),
        "Since": FieldInfo("Since", "datetime"),
        "ParentAccount": FieldInfo("ParentAccount", "string", max_length=20),
    },
    key=("dataAreaId", "CustomerAccount"),
)

ROWS = [
    MappingRow(destination="CustomerAccount", source="accountnumber"),
    MappingRow(destination="CreditLimit", source="creditlimit"),
    MappingRow(destination="Employees", source="numberofemployees"),
    MappingRow(destination="IsExternallyMaintained", source="external"),
    MappingRow(destination="OnHold", source="onhold"),
    MappingRow(destination="Since", source="createdon"),
    MappingRow(destination="ParentAccount", source="parentaccountid.accountnumber"),
]


def test_batch_maps_with_conversions_and_reports_each_bad_record() -> None:
    mapping = compile_mapping(ROWS, CUSTOMER)
    batch = [
        {
            "accountnumber": "ACC-1",
            "creditlimit": "1,500.50",
            "numberofemployees": "12",
            "external": True,
            "onhold": "no",
            "createdon": "2024-01-02T03:04:05Z",
            "parentaccountid.accountnumber": "ACC-0",
        },
        {
            "accountnumber": "ACC-2",
            "creditlimit": "lots",
            "numberofemployees": 3,
            "external": "maybe",
            "onhold": False,
        },
        {"accountnumber": "ACC-3", "creditlimit": 10, "numberofemployees": 7.9, "onhold": 1},
    ]
    result = mapping.apply(batch)
    assert result.indexes == [0, 2]
    assert result.records == [
        {
            "CustomerAccount": "ACC-1",
            "CreditLimit": 1500.5,
            "Employees": 12,
            "IsExternallyMaintained": "Yes",
            "OnHold": False,
            "Since": "2024-01-02T03:04:05Z",
            "ParentAccount": "ACC-0",
        },
        {
            "CustomerAccount": "ACC-3",
            "CreditLimit": 10,
            "Employees": 7,
            "IsExternallyMaintained": None,
            "OnHold": True,
            "Since": None,
            "ParentAccount": None,
        },
    ]
    assert [(e.index, e.field, e.message) for e in result.errors] == [
        (1, "CreditLimit", "cannot convert 'lots' to a number"),
        (1, "IsExternallyMaintained", "'maybe' is not one of No, Yes"),
    ]
    assert mapping.source_fields[-1] == "parentaccountid.accountnumber"


def test_same_source_feeds_two_destinations_and_empty_batch_is_empty() -> None:
    fields = {
        "CustomerAccount": FieldInfo("CustomerAccount", "string"),
        "PartyNumber": FieldInfo("PartyNumber", "string"),
    }
    mapping = compile_mapping(
        [
            MappingRow(destination="CustomerAccount", source="AccountId"),
            MappingRow(destination="PartyNumber", source="AccountId"),
        ],
        fields,
    )
    assert mapping.apply([{"AccountId": "A"}]).records == [
        {"CustomerAccount": "A", "PartyNumber": "A"}
    ]
    empty = mapping.apply([])
    assert (empty.records, empty.errors) == ([], [])


def test_bad_default_for_the_destination_type_is_refused_at_compile() -> None:
    from integrator.mapping import check_rows

    problems = check_rows(
        [
            MappingRow(destination="Employees", transforms=[{"type": "Default", "value": "many"}]),
            MappingRow(destination="OnHold", source="createdon"),
            MappingRow(destination="OnHold", source="onhold"),
        ],
        CUSTOMER,
        {"createdon": FieldInfo("createdon", "datetime"), "onhold": FieldInfo("onhold", "boolean")},
    )
    assert [(p.row, p.part) for p in problems] == [
        (0, "transforms"),
        (1, "source"),
        (2, "destination"),
    ]
    assert "cannot convert 'many' to a whole number" in problems[0].message
    assert "'createdon' (datetime) cannot convert to 'OnHold' (boolean)" in problems[1].message
    assert "field 'OnHold' is already mapped by row 2" in problems[2].message
