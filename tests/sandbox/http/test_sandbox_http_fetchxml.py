"""FetchXML through the Web API: the Advanced Find subset answered as Dataverse answers it, and a
400 naming whatever lies outside it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import quoteattr

import httpx
import pytest
from sandbox_http_support import Op, error_message, post_batch

from integrator.sandbox.testing import SandboxHandle

PAGING = (
    'odata.include-annotations="Microsoft.Dynamics.CRM.fetchxmlpagingcookie,'
    'Microsoft.Dynamics.CRM.morerecords"'
)
COOKIE = "@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"
MORE = "@Microsoft.Dynamics.CRM.morerecords"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def _accounts(client: httpx.Client, root: str, n: int) -> None:
    ops: list[Op | list[Op]] = [
        Op(
            "POST",
            "accounts",
            {
                "name": f"Account {i:02d}",
                "accountnumber": f"A{i:02d}",
                "address1_city": ["Seattle", "Berlin", None][i % 3],
                "statecode": i % 2,
            },
        )
        for i in range(n)
    ]
    assert post_batch(client, root, ops).status_code == 200


def _fetch(
    client: httpx.Client, sandbox: SandboxHandle, xml: str, prefer: str | None = None, **extra: str
) -> httpx.Response:
    headers = {"Prefer": prefer} if prefer else {}
    return client.get(
        sandbox.sales + "accounts", params={"fetchXml": xml, **extra}, headers=headers
    )


def _names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["name"] for r in response.json()["value"]]


def _query(conditions: str, kind: str = "and") -> str:
    return (
        "<fetch><entity name='account'><attribute name='name'/>"
        f"<filter type='{kind}'>{conditions}</filter><order attribute='name'/></entity></fetch>"
    )


def test_attributes_filter_and_order(sandbox: SandboxHandle, client: httpx.Client) -> None:
    _accounts(client, sandbox.sales, 12)
    xml = (
        "<fetch mapping='logical' version='1.0'><entity name='account'>"
        "<attribute name='name'/><attribute name='address1_city'/>"
        "<filter type='and'><condition attribute='address1_city' operator='eq' value='BERLIN'/>"
        "<filter type='or'><condition attribute='name' operator='like' value='%01'/>"
        "<condition attribute='accountnumber' operator='in'><value>A07</value><value>A10</value>"
        "</condition></filter></filter>"
        "<order attribute='name' descending='true'/></entity></fetch>"
    )
    r = _fetch(client, sandbox, xml)
    assert _names(r) == ["Account 10", "Account 07", "Account 01"]
    body = r.json()
    assert body["@odata.context"].endswith("$metadata#accounts(name,address1_city,accountid)")
    first = body["value"][0]
    assert set(first) == {"@odata.etag", "name", "address1_city", "accountid"}

    # properties whose value is null are left out of FetchXML results
    nulls = _fetch(
        client, sandbox, _query("<condition attribute='address1_city' operator='null'/>")
    )
    assert all(set(v) == {"@odata.etag", "name", "accountid"} for v in nulls.json()["value"])
    assert _names(nulls) == ["Account 02", "Account 05", "Account 08", "Account 11"]


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ("<condition attribute='accountnumber' operator='ne' value='A00'/>", list(range(1, 6))),
        ("<condition attribute='accountnumber' operator='gt' value='A03'/>", [4, 5]),
        ("<condition attribute='accountnumber' operator='ge' value='A03'/>", [3, 4, 5]),
        ("<condition attribute='accountnumber' operator='lt' value='A02'/>", [0, 1]),
        ("<condition attribute='accountnumber' operator='le' value='A02'/>", [0, 1, 2]),
        ("<condition attribute='address1_city' operator='not-null'/>", [0, 1, 3, 4]),
        ("<condition attribute='address1_city' operator='ne' value='Seattle'/>", [1, 4]),
        ("<condition attribute='name' operator='like' value='%unt 0%'/>", list(range(6))),
        ("<condition attribute='address1_city' operator='not-like' value='Ber%'/>", [0, 3]),
        ("<condition attribute='name' operator='begins-with' value='account 0'/>", list(range(6))),
        ("<condition attribute='accountnumber' operator='ends-with' value='4'/>", [4]),
        ("<condition attribute='accountnumber' operator='not-begin-with' value='A0'/>", []),
        (
            "<condition attribute='accountnumber' operator='not-end-with' value='4'/>",
            [0, 1, 2, 3, 5],
        ),
        (
            "<condition attribute='accountnumber' operator='not-in'><value>A00</value>"
            "<value>A01</value></condition>",
            [2, 3, 4, 5],
        ),
        (
            "<condition attribute='accountnumber' operator='between'><value>A01</value>"
            "<value>A03</value></condition>",
            [1, 2, 3],
        ),
        (
            "<condition attribute='accountnumber' operator='not-between'><value>A01</value>"
            "<value>A03</value></condition>",
            [0, 4, 5],
        ),
        ("<condition attribute='statecode' operator='eq' value='1'/>", [1, 3, 5]),
    ],
)
def test_condition_operators(
    sandbox: SandboxHandle, client: httpx.Client, conditions: str, expected: list[int]
) -> None:
    _accounts(client, sandbox.sales, 6)
    r = _fetch(client, sandbox, _query(conditions))
    assert _names(r) == [f"Account {i:02d}" for i in expected]


def test_or_filter(sandbox: SandboxHandle, client: httpx.Client) -> None:
    _accounts(client, sandbox.sales, 6)
    xml = _query(
        "<condition attribute='accountnumber' operator='eq' value='A00'/>"
        "<condition attribute='accountnumber' operator='eq' value='A05'/>",
        "or",
    )
    assert _names(_fetch(client, sandbox, xml)) == ["Account 00", "Account 05"]


def _next_fetch(xml: str, page: int, annotation: str) -> str:
    match = re.fullmatch(
        r'<cookie pagenumber="(\d+)" pagingcookie="([^"]*)" istracking="False" />', annotation
    )
    assert match, annotation
    assert int(match.group(1)) == page + 1
    cookie = unquote(unquote(match.group(2)))
    assert cookie.startswith(f'<cookie page="{page}">')
    return xml.replace(
        "<fetch count='7'", f"<fetch count='7' page='{page + 1}' paging-cookie={quoteattr(cookie)}"
    )


def test_paging_with_cookies_reads_every_row_once(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    _accounts(client, sandbox.sales, 30)
    base = (
        "<fetch count='7'><entity name='account'><attribute name='name'/>"
        "<order attribute='address1_city' descending='true'/><order attribute='name'/>"
        "</entity></fetch>"
    )
    xml = base.replace("<fetch count='7'", "<fetch count='7' page='1'")
    names: list[str] = []
    page = 1
    while True:
        r = _fetch(client, sandbox, xml, PAGING, **{"$count": "true"})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        assert body["@odata.count"] == 30
        assert r.headers["Preference-Applied"] == PAGING
        names += [v["name"] for v in body["value"]]
        if not body.get(MORE):
            assert COOKIE not in body
            break
        assert len(body["value"]) == 7
        xml = _next_fetch(base, page, body[COOKIE])
        page += 1
    assert page == 5
    assert sorted(names) == [f"Account {i:02d}" for i in range(30)]
    assert len(names) == 30

    # without the annotations asked for, none come back
    plain = _fetch(client, sandbox, base)
    assert MORE not in plain.json() and COOKIE not in plain.json()
    assert len(plain.json()["value"]) == 7


def test_simple_paging_and_top(sandbox: SandboxHandle, client: httpx.Client) -> None:
    _accounts(client, sandbox.sales, 10)
    body = "<entity name='account'><attribute name='name'/><order attribute='name'/></entity>"
    xml = "<fetch count='4' page='{}'>" + body + "</fetch>"
    assert _names(_fetch(client, sandbox, xml.format(3))) == ["Account 08", "Account 09"]
    assert _names(_fetch(client, sandbox, xml.format(2))) == [
        f"Account {i:02d}" for i in range(4, 8)
    ]
    top = "<fetch top='3'>" + body + "</fetch>"
    r = _fetch(client, sandbox, top, PAGING)
    assert _names(r) == ["Account 00", "Account 01", "Account 02"]
    assert MORE not in r.json()


def test_all_attributes_and_lookups(sandbox: SandboxHandle, client: httpx.Client) -> None:
    account = client.post(sandbox.sales + "accounts", json={"name": "Fabrikam"})
    account_id = account.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    client.post(
        sandbox.sales + "contacts",
        json={"lastname": "Lee", "parentcustomerid_account@odata.bind": f"/accounts({account_id})"},
    )
    client.post(sandbox.sales + "contacts", json={"lastname": "Alone"})
    xml = (
        "<fetch><entity name='contact'><all-attributes/><filter>"
        f"<condition attribute='parentcustomerid' operator='eq' uiname='Fabrikam' uitype='account'"
        f" value='{{{account_id.upper()}}}'/></filter></entity></fetch>"
    )
    r = client.get(sandbox.sales + "contacts", params={"fetchXml": xml})
    assert r.status_code == 200, r.text
    (lee,) = r.json()["value"]
    assert lee["lastname"] == "Lee" and lee["_parentcustomerid_value"] == account_id
    assert "firstname" not in lee  # null
    assert r.json()["@odata.context"].endswith("$metadata#contacts")


@pytest.mark.parametrize(
    ("xml", "named"),
    [
        (
            "<fetch><entity name='account'><link-entity name='contact' from='parentcustomerid'"
            " to='accountid'/></entity></fetch>",
            "<link-entity>",
        ),
        ("<fetch aggregate='true'><entity name='account'/></fetch>", "'aggregate'"),
        (
            "<fetch><entity name='account'><attribute name='name' aggregate='count' alias='n'/>"
            "</entity></fetch>",
            "'aggregate'",
        ),
        (
            _query("<condition attribute='createdon' operator='last-x-days' value='3'/>"),
            "'last-x-days'",
        ),
        (_query("<condition attribute='name' operator='like' value='A_c%'/>"), "'A_c%'"),
        ("<fetch><entity name='contact'/></fetch>", "'contact'"),
        ("<fetch top='2' page='1'><entity name='account'/></fetch>", "'top'"),
        ("<fetch distinct='maybe'><entity name='account'/></fetch>", "'distinct'"),
        ("<fetch><entity name='account'><attribute name='name'></fetch>", "not well-formed"),
        (
            "<?xml version='1.0'?><!DOCTYPE fetch [<!ENTITY a 'account'>]>"
            "<fetch><entity name='&a;'/></fetch>",
            "DTD",
        ),
        (_query("<condition attribute='statecode' operator='eq' value='x'/>"), "'x'"),
        (_query("<condition attribute='name' operator='between' value='a'/>"), "'between'"),
    ],
)
def test_outside_the_subset_is_a_400_naming_it(
    sandbox: SandboxHandle, client: httpx.Client, xml: str, named: str
) -> None:
    r = _fetch(client, sandbox, xml)
    assert r.status_code == 400, r.text
    assert named in error_message(r)


def test_unknown_attribute_is_worded_as_dataverse(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = _fetch(
        client, sandbox, "<fetch><entity name='account'><attribute name='foo'/></entity></fetch>"
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "0x80041103"
    assert error_message(r) == (
        "'account' entity doesn't contain attribute with Name = 'foo' and NameMapping = 'Logical'."
    )


def test_fetchxml_does_not_combine_with_odata_options(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    xml = "<fetch><entity name='account'/></fetch>"
    r = _fetch(client, sandbox, xml, **{"$select": "name"})
    assert r.status_code == 400
    assert "$select" in error_message(r)


def test_distinct_gives_unique_combinations(sandbox: SandboxHandle, client: httpx.Client) -> None:
    _accounts(client, sandbox.sales, 9)
    xml = (
        "<fetch distinct='true'{}><entity name='account'><attribute name='address1_city'/>"
        "<order attribute='address1_city'/></entity></fetch>"
    )
    r = _fetch(client, sandbox, xml.format(""), PAGING, **{"$count": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["value"] == [{}, {"address1_city": "Berlin"}, {"address1_city": "Seattle"}]
    assert body["@odata.count"] == 3
    assert MORE not in body
    first = _fetch(client, sandbox, xml.format(" count='2' page='1'"), PAGING).json()
    assert len(first["value"]) == 2 and first[MORE] is True
    second = _fetch(client, sandbox, xml.format(" count='2' page='2'"), PAGING).json()
    assert second["value"] == [{"address1_city": "Seattle"}] and MORE not in second
