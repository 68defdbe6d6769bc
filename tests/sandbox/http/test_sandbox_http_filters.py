"""$filter through the sandbox's HTTP API as Dataverse and F&O answer it: operand types checked,
the OData forms the grammar allows, blanks, one Unicode case-insensitive collation, Dataverse's
query functions, and a nesting limit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sandbox_http_support import error_message

from integrator.sandbox.testing import SandboxHandle

CONTACTS = [
    {"firstname": "Jürgen", "lastname": "Ñúñez-Øster", "accountrolecode": 1},
    {"firstname": "Anna", "lastname": "Milk", "accountrolecode": 2},
    {"firstname": "Gilles", "lastname": "Gilbert", "accountrolecode": 3},
    {"firstname": "Straße", "lastname": None, "accountrolecode": None},
]


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


@pytest.fixture
def contacts(sandbox: SandboxHandle, client: httpx.Client) -> str:
    for contact in CONTACTS:
        r = client.post(sandbox.sales + "contacts", json=contact)
        assert r.status_code == 204, r.text
    return sandbox.sales + "contacts"


def _first_names(client: httpx.Client, url: str, expr: str) -> list[str]:
    r = client.get(url, params={"$filter": expr, "$select": "firstname", "$orderby": "firstname"})
    assert r.status_code == 200, (expr, r.text)
    return [v["firstname"] for v in r.json()["value"]]


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (
            "lastname eq 1",
            "A binary operator with incompatible types was detected. Found operand types "
            "'Edm.String' and 'Edm.Int32' for operator kind 'Equal'.",
        ),
        (
            "msdynce_isactivecustomer eq 1",
            "A binary operator with incompatible types was detected. Found operand types "
            "'Edm.Boolean' and 'Edm.Int32' for operator kind 'Equal'.",
        ),
        (
            "accountrolecode eq '1'",
            "A binary operator with incompatible types was detected. Found operand types "
            "'Edm.Int32' and 'Edm.String' for operator kind 'Equal'.",
        ),
        (
            "createdon gt 'yesterday'",
            "A binary operator with incompatible types was detected. Found operand types "
            "'Edm.DateTimeOffset' and 'Edm.String' for operator kind 'GreaterThan'.",
        ),
        ("lastname", "The $filter expression must evaluate to a single boolean value."),
        ("not lastname", "The $filter expression must evaluate to a single boolean value."),
        (
            "contains(accountrolecode,'1')",
            "No function signature for the function with name 'contains' matches the specified "
            "arguments. The function signatures considered are: "
            "contains(Edm.String Nullable=true, Edm.String Nullable=true).",
        ),
    ],
)
def test_operands_of_the_wrong_type_are_refused_as_dataverse_refuses_them(
    contacts: str, client: httpx.Client, expr: str, message: str
) -> None:
    r = client.get(contacts, params={"$filter": expr})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "0x80060888"
    assert error_message(r) == message


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("contains(lastname,'il') eq true", ["Anna", "Gilles"]),
        ("contains(lastname,'il') eq false", ["Jürgen"]),
        ("true and false", []),
        ("not false", ["Anna", "Gilles", "Jürgen", "Straße"]),
        ("accountrolecode lt +2", ["Jürgen"]),
        ("accountrolecode gt -1 and accountrolecode le 2.5", ["Anna", "Jürgen"]),
        ("null eq lastname", ["Straße"]),
        ("((((lastname eq 'milk'))))", ["Anna"]),
        ("(lastname) eq 'Milk'", ["Anna"]),
    ],
)
def test_forms_odata_allows_are_accepted(
    contacts: str, client: httpx.Client, expr: str, expected: list[str]
) -> None:
    assert _first_names(client, contacts, expr) == expected


def test_ne_and_not_leave_blanks_out_as_dataverse_does(contacts: str, client: httpx.Client) -> None:
    # "Records aren't returned if the expression evaluates to false or null" (filter-rows.md)
    assert _first_names(client, contacts, "lastname ne 'Milk'") == ["Gilles", "Jürgen"]
    assert _first_names(client, contacts, "not (lastname eq 'Milk')") == ["Gilles", "Jürgen"]
    assert _first_names(client, contacts, "not contains(lastname, 'il')") == ["Jürgen"]
    assert _first_names(client, contacts, "lastname ne 'Milk' or lastname eq null") == [
        "Gilles",
        "Jürgen",
        "Straße",
    ]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("tolower(lastname) eq 'ñúñez-øster'", ["Jürgen"]),
        ("toupper(lastname) eq 'ÑÚÑEZ-ØSTER'", ["Jürgen"]),
        ("firstname eq 'JÜRGEN'", ["Jürgen"]),
        ("lastname eq 'MILK'", ["Anna"]),
        ("firstname eq 'STRASSE'", ["Straße"]),
        ("contains(lastname, 'ÚÑ')", ["Jürgen"]),
        ("startswith(lastname, 'ñú')", ["Jürgen"]),
        ("endswith(lastname, 'ØSTER')", ["Jürgen"]),
        ("lastname gt 'MILK'", ["Jürgen"]),
        ("firstname ne 'jürgen'", ["Anna", "Gilles", "Straße"]),
    ],
)
def test_every_string_comparison_folds_unicode_case(
    contacts: str, client: httpx.Client, expr: str, expected: list[str]
) -> None:
    assert _first_names(client, contacts, expr) == expected


def test_orderby_on_strings_uses_the_same_collation(contacts: str, client: httpx.Client) -> None:
    r = client.get(contacts, params={"$select": "lastname", "$orderby": "lastname desc"})
    # case-folded order: ñ (U+00F1) sorts after m; the blank sorts last when descending
    assert [v["lastname"] for v in r.json()["value"]] == ["Ñúñez-Øster", "Milk", "Gilbert", None]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            "Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=['milk','GILBERT'])",
            ["Anna", "Gilles"],
        ),
        (
            "Microsoft.Dynamics.CRM.NotIn(PropertyName='accountrolecode',PropertyValues=[\"1\"])",
            ["Anna", "Gilles"],
        ),
        (
            'Microsoft.Dynamics.CRM.Between(PropertyName=\'accountrolecode\',PropertyValues=["2","3"])',
            ["Anna", "Gilles"],
        ),
        (
            "Microsoft.Dynamics.CRM.NotBetween(PropertyName='accountrolecode',PropertyValues=[2,3])",
            ["Jürgen"],
        ),
        (
            'Microsoft.Dynamics.CRM.In(PropertyName=\'lastname\',PropertyValues=["O\'Neil","Milk"])'
            " and firstname eq 'anna'",
            ["Anna"],
        ),
    ],
)
def test_dataverse_value_functions(
    contacts: str, client: httpx.Client, expr: str, expected: list[str]
) -> None:
    assert _first_names(client, contacts, expr) == expected


def test_dataverse_date_functions_compare_utc_days(contacts: str, client: httpx.Client) -> None:
    today = datetime.now(UTC).date()
    every = ["Anna", "Gilles", "Jürgen", "Straße"]

    def names(function: str, value: str) -> list[str]:
        expr = f"Microsoft.Dynamics.CRM.{function}(PropertyName='createdon',PropertyValue={value})"
        return _first_names(client, contacts, expr)

    assert names("On", f"'{today}'") == every
    assert names("On", f"{today}") == every
    assert names("On", f"'{today - timedelta(days=1)}'") == []
    assert names("OnOrAfter", f"'{today}'") == every
    assert names("OnOrAfter", f"'{today + timedelta(days=1)}'") == []
    assert names("OnOrBefore", f"'{today}'") == every
    assert names("OnOrBefore", f"'{today - timedelta(days=1)}'") == []
    assert names("LastXDays", "7") == every
    assert names("LastXDays", "0") == every
    assert names("NextXDays", "7") == []


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (
            "Microsoft.Dynamics.CRM.On(PropertyName='lastname',PropertyValue='2024-01-01')",
            "Microsoft.Dynamics.CRM.On compares dates, but the property 'lastname' is of type "
            "Edm.String.",
        ),
        (
            "Microsoft.Dynamics.CRM.In(PropertyName='accountrolecode',PropertyValues=['x'])",
            "The value 'x' given to Microsoft.Dynamics.CRM.In is not a valid Edm.Int32 for the "
            "property 'accountrolecode'.",
        ),
        (
            "Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue='soon')",
            "The value 'soon' given to Microsoft.Dynamics.CRM.LastXDays is not a valid Edm.Int32 "
            "for the property 'createdon'.",
        ),
    ],
)
def test_query_function_values_are_checked(
    contacts: str, client: httpx.Client, expr: str, message: str
) -> None:
    r = client.get(contacts, params={"$filter": expr})
    assert r.status_code == 400
    assert error_message(r) == message


def test_query_function_on_an_unknown_property_names_it(
    contacts: str, client: httpx.Client
) -> None:
    expr = "Microsoft.Dynamics.CRM.In(PropertyName='shoesize',PropertyValues=['1'])"
    r = client.get(contacts, params={"$filter": expr})
    assert r.status_code == 400
    assert "'shoesize'" in error_message(r)


def test_finops_refuses_dataverse_query_functions(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    expr = "Microsoft.Dynamics.CRM.In(PropertyName='CustomerAccount',PropertyValues=['C-1'])"
    r = client.get(sandbox.finops + "CustomersV2", params={"$filter": expr})
    assert r.status_code == 400
    assert error_message(r).startswith(
        "An unknown function with name 'Microsoft.Dynamics.CRM.In' was found."
    )


def test_finops_checks_operand_types_too(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.get(sandbox.finops + "CustomersV2", params={"$filter": "CustomerAccount eq 1"})
    assert r.status_code == 400
    assert "incompatible types" in error_message(r)


def test_a_filter_nested_too_deep_is_refused_stating_the_limit(
    contacts: str, client: httpx.Client
) -> None:
    deep = "(" * 150 + "lastname eq 'Milk'" + ")" * 150
    r = client.get(contacts, params={"$filter": deep})
    assert r.status_code == 400
    assert "more than 32 levels deep" in error_message(r)
    negated = "not " * 150 + "(lastname eq 'Milk')"
    r = client.get(contacts, params={"$filter": negated})
    assert r.status_code == 400
    assert "more than 32 levels deep" in error_message(r)
    fine = "(" * 32 + "lastname eq 'Milk'" + ")" * 32
    assert _first_names(client, contacts, fine) == ["Anna"]


def test_query_function_values_may_come_from_parameter_aliases(
    contacts: str, client: httpx.Client
) -> None:
    # the form of Microsoft's own example (webapi/query/filter-rows.md, "Manage single quotes")
    r = client.get(
        contacts,
        params={
            "$filter": "Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)",
            "@p1": "'lastname'",
            "@p2": '["O\'Brian","Milk","gilbert"]',
            "$select": "firstname",
        },
    )
    assert r.status_code == 200, r.text
    assert sorted(v["firstname"] for v in r.json()["value"]) == ["Anna", "Gilles"]
    # OData URL conventions: an alias given no value is null
    r = client.get(contacts, params={"$filter": "accountrolecode eq @code"})
    assert r.status_code == 200, r.text
    unassigned = r.json()["value"]
    assert unassigned and all(v["accountrolecode"] is None for v in unassigned)
