"""Deeply nested ``$filter`` and FetchXML are refused with a stated limit, never a RecursionError:
the sandbox answers 400 in the service's error shape (Dataverse and F&O) and the parser raises
its syntax error."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from integrator.errors import FilterSyntaxError
from integrator.odata.filter import parse_filter
from integrator.sandbox.testing import SandboxHandle

DEEP_PARENS = "(" * 1000 + "lastname eq 'Milk'" + ")" * 1000
DEEP_NOT = "not " * 2000 + "(lastname eq 'Milk')"
DEEP_FUNCTIONS = "tolower(" * 99 + "lastname" + ")" * 99 + " eq 'milk'"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def _error(r: httpx.Response) -> dict[str, str]:
    body = r.json()
    assert set(body) == {"error"}, body
    error: dict[str, str] = body["error"]
    assert error["code"] and error["message"], body
    return error


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        (DEEP_PARENS, "more than 32 levels deep"),
        (DEEP_NOT, "more than 32 levels deep"),
        (DEEP_FUNCTIONS, "functions more than 10 levels deep"),
    ],
)
def test_dataverse_answers_400_stating_the_limit(
    sandbox: SandboxHandle, client: httpx.Client, text: str, limit: str
) -> None:
    r = client.get(sandbox.sales + "contacts", params={"$filter": text})
    assert r.status_code == 400, r.text[:300]
    error = _error(r)
    assert limit in error["message"]
    assert "RecursionError" not in r.text


@pytest.mark.parametrize("text", [DEEP_PARENS, DEEP_NOT, DEEP_FUNCTIONS])
def test_finops_answers_400_too(sandbox: SandboxHandle, client: httpx.Client, text: str) -> None:
    field = "CustomerAccount"
    r = client.get(
        sandbox.finops + "CustomersV2", params={"$filter": text.replace("lastname", field)}
    )
    assert r.status_code == 400, r.text[:300]
    assert "levels deep" in _error(r)["message"]


def test_functions_nest_ten_levels_and_no_more() -> None:
    parse_filter("tolower(" * 10 + "a" + ")" * 10 + " eq 'x'")
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter("toupper(" * 11 + "a" + ")" * 11 + " eq 'x'")
    assert "functions more than 10 levels deep" in caught.value.reason


def _alternating(levels: int, leaf: str) -> str:
    text = leaf
    for i in range(levels):
        text = f"(firstname eq 'x' {'and' if i % 2 else 'or'} {text})"
    return text


@pytest.mark.parametrize(
    "text",
    [
        _alternating(32, "lastname eq 'Milk'"),
        _alternating(22, "tolower(" * 10 + "lastname" + ")" * 10 + " eq 'milk'"),
        "not " * 31 + "(lastname eq 'Milk')",
    ],
)
def test_the_deepest_filters_allowed_run_in_the_sandbox(
    sandbox: SandboxHandle, client: httpx.Client, text: str
) -> None:
    # compiled to SQL and run by SQLite, whose parser overflows at about 37 such levels
    r = client.get(sandbox.sales + "contacts", params={"$filter": text})
    assert r.status_code == 200, r.text[:300]


def test_one_level_more_is_refused(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.get(
        sandbox.sales + "contacts", params={"$filter": _alternating(33, "lastname eq 'Milk'")}
    )
    assert r.status_code == 400, r.text[:300]
    assert "more than 32 levels deep" in _error(r)["message"]


def _nested_fetch(levels: int) -> str:
    condition = '<condition attribute="lastname" operator="eq" value="Milk"/>'
    inner = condition
    for i in range(levels):
        kind = "and" if i % 2 else "or"
        inner = f'<filter type="{kind}">{condition}{inner}</filter>'
    return f'<fetch><entity name="contact"><attribute name="lastname"/>{inner}</entity></fetch>'


def test_fetchxml_filters_nested_too_deep_answer_400(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = client.get(sandbox.sales + "contacts", params={"fetchXml": _nested_fetch(150)})
    assert r.status_code == 400, r.text[:300]
    assert "more than 32 levels deep" in _error(r)["message"]
    r = client.get(sandbox.sales + "contacts", params={"fetchXml": _nested_fetch(32)})
    assert r.status_code == 200, r.text[:300]


def test_an_in_of_1000_values_runs(sandbox: SandboxHandle, client: httpx.Client) -> None:
    # lowered to 1000 comparisons: SQLite refuses a chain that long ("Expression tree is too
    # large"), so the SQL groups it
    values = ",".join(f"'n{i}'" for i in range(999)) + ",'Milk'"
    text = f"Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=[{values}])"
    assert client.post(sandbox.sales + "contacts", json={"lastname": "Milk"}).status_code == 204
    r = client.get(sandbox.sales + "contacts", params={"$filter": text, "$select": "lastname"})
    assert r.status_code == 200, r.text[:300]
    assert [c["lastname"] for c in r.json()["value"]] == ["Milk"]
