"""Reads as Dataverse answers them: key and etag whatever $select says, annotations only when
asked (formatted values, lookup annotations), $skip and unknown query parameters refused (F&O
keeps $skip and passes custom options by)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from sandbox_http_support import error_message

from integrator.sandbox.testing import SandboxHandle

FORMATTED = "@OData.Community.Display.V1.FormattedValue"
LOGICAL = "@Microsoft.Dynamics.CRM.lookuplogicalname"
NAVIGATION = "@Microsoft.Dynamics.CRM.associatednavigationproperty"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def _id(response: httpx.Response) -> str:
    return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")


def _people(sandbox: SandboxHandle, client: httpx.Client) -> tuple[str, str]:
    """A Fabrikam account with contact Ann Lee (decision maker); Bob Alone has no company."""
    account = _id(client.post(sandbox.sales + "accounts", json={"name": "Fabrikam"}))
    r = client.post(
        sandbox.sales + "contacts",
        json={
            "firstname": "Ann",
            "lastname": "Lee",
            "accountrolecode": 1,
            "parentcustomerid_account@odata.bind": f"/accounts({account})",
        },
    )
    assert r.status_code == 204, r.text
    client.post(sandbox.sales + "contacts", json={"firstname": "Bob", "lastname": "Alone"})
    return account, _id(r)


def test_select_always_returns_the_key_and_the_etag(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    account, lee = _people(sandbox, client)
    r = client.get(
        sandbox.sales + "contacts", params={"$select": "firstname", "$orderby": "lastname"}
    )
    body = r.json()
    assert body["@odata.context"].endswith("$metadata#contacts(firstname)")
    first = body["value"][0]
    assert list(first) == ["@odata.etag", "firstname", "contactid"]
    assert re.fullmatch(r'W/"\d+"', first["@odata.etag"])

    one = client.get(sandbox.sales + f"contacts({lee})", params={"$select": "lastname"}).json()
    assert {k for k in one if not k.startswith("@odata.context")} == {
        "@odata.etag",
        "lastname",
        "contactid",
    }
    version = client.get(sandbox.sales + f"contacts({lee})").json()["versionnumber"]
    assert one["@odata.etag"] == f'W/"{version}"'

    made = client.post(
        sandbox.sales + "accounts?$select=name",
        json={"name": "Contoso"},
        headers={"Prefer": "return=representation"},
    ).json()
    assert set(made) == {"@odata.context", "@odata.etag", "name", "accountid"}

    expanded = client.get(
        sandbox.sales + f"contacts({lee})",
        params={"$select": "lastname", "$expand": "parentcustomerid_account($select=name)"},
    ).json()["parentcustomerid_account"]
    assert set(expanded) == {"@odata.etag", "name", "accountid"}
    assert expanded["accountid"] == account


def test_formatted_values_only_when_asked(sandbox: SandboxHandle, client: httpx.Client) -> None:
    account, lee = _people(sandbox, client)
    quote = client.post(
        sandbox.sales + "quotes",
        json={
            "name": "Q1",
            "totalamount": 20000,
            "customerid_account@odata.bind": f"/accounts({account})",
        },
    )
    assert quote.status_code == 204, quote.text
    url = sandbox.sales + f"contacts({lee})"
    select = {"$select": "accountrolecode,msdynce_iscompanyanaccount,_parentcustomerid_value"}
    plain = client.get(url, params={**select, "$select": select["$select"] + ",modifiedon"})
    assert not any("@OData.Community" in k or "@Microsoft" in k for k in plain.json())
    assert "Preference-Applied" not in plain.headers

    prefer = 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'
    r = client.get(
        url,
        params={"$select": select["$select"] + ",modifiedon"},
        headers={"Prefer": prefer},
    )
    record = r.json()
    assert r.headers["Preference-Applied"] == prefer
    assert record["accountrolecode" + FORMATTED] == "Decision Maker"
    assert record["msdynce_iscompanyanaccount" + FORMATTED] == "Yes"
    assert record["_parentcustomerid_value" + FORMATTED] == "Fabrikam"
    assert LOGICAL not in {k[len("_parentcustomerid_value") :] for k in record}
    moment = datetime.fromisoformat(record["modifiedon"].replace("Z", "+00:00"))
    hour = moment.hour % 12 or 12
    assert record["modifiedon" + FORMATTED] == (
        f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d} "
        + ("AM" if moment.hour < 12 else "PM")
    )
    assert "contactid" + FORMATTED not in record

    quotes = client.get(
        sandbox.sales + "quotes",
        params={"$select": "totalamount,_customerid_value,statecode"},
        headers={"Prefer": 'odata.include-annotations="*"'},
    ).json()["value"]
    assert quotes[0]["totalamount" + FORMATTED] == "$20,000.00"
    assert quotes[0]["_customerid_value" + FORMATTED] == "Fabrikam"
    assert quotes[0]["_customerid_value" + LOGICAL] == "account"
    assert quotes[0]["statecode" + FORMATTED] == "Draft"

    contacts = client.get(
        sandbox.sales + "contacts",
        params={"$select": "lastname,msdynce_iscompanyanaccount", "$orderby": "lastname"},
        headers={"Prefer": 'odata.include-annotations="*,-OData.Community.Display.V1.*"'},
    ).json()["value"]
    assert [c["lastname"] for c in contacts] == ["Alone", "Lee"]
    assert not any(k.endswith(FORMATTED) for c in contacts for k in c)


def test_lookup_annotations_are_separate_terms(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    _, lee = _people(sandbox, client)
    url = sandbox.sales + f"contacts({lee})?$select=_parentcustomerid_value"
    only_logical = client.get(
        url,
        headers={"Prefer": 'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"'},
    ).json()
    assert only_logical["_parentcustomerid_value" + LOGICAL] == "account"
    assert "_parentcustomerid_value" + NAVIGATION not in only_logical
    both = client.get(
        url, headers={"Prefer": 'odata.include-annotations="Microsoft.Dynamics.CRM.*"'}
    )
    assert both.json()["_parentcustomerid_value" + NAVIGATION] == "parentcustomerid_account"
    assert "_parentcustomerid_value" + FORMATTED not in both.json()


def test_skip_is_refused_on_dataverse_and_served_on_finops(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = client.get(sandbox.sales + "accounts", params={"$skip": "1"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "0x80060888"
    assert error_message(r) == "The query parameter $skip is not supported"

    groups = client.get(
        sandbox.finops + "CustomerGroups", params={"$orderby": "CustomerGroupId"}
    ).json()["value"]
    skipped = client.get(
        sandbox.finops + "CustomerGroups",
        params={"$orderby": "CustomerGroupId", "$skip": "1", "$top": "2"},
    )
    assert skipped.status_code == 200, skipped.text
    assert skipped.json()["value"] == groups[1:3]


def test_unknown_query_parameters(sandbox: SandboxHandle, client: httpx.Client) -> None:
    # option names are case-sensitive; $skip, $search and $format are not Dataverse's
    for name in ("fetchxml", "foo", "$search", "$format", "$SELECT"):
        r = client.get(sandbox.sales + "contacts", params={name: "x"})
        assert r.status_code == 400, name
        assert error_message(r) == f"The query parameter {name} is not supported"
    r = client.get(sandbox.sales + "contacts", params={"$apply": "groupby((lastname))"})
    assert error_message(r) == (
        "The query parameter $apply is not supported by the sandbox (Dataverse serves it)"
    )
    r = client.get(sandbox.cds + "contacts", params={"api-version": "1"})
    assert r.status_code == 400

    # F&O passes custom options by, takes cross-company, refuses unknown $ options
    assert client.get(sandbox.finops + "CustomerGroups", params={"foo": "1"}).status_code == 200
    assert client.get(sandbox.finops + "CustomerGroups", params={"$foo": "1"}).status_code == 400


def test_parameter_aliases_in_filter_and_orderby(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    _people(sandbox, client)
    r = client.get(
        sandbox.sales + "contacts",
        params={"$filter": "lastname eq @name", "@name": "'Lee'", "$select": "firstname"},
    )
    assert r.status_code == 200, r.text
    assert [c["firstname"] for c in r.json()["value"]] == ["Ann"]
    r = client.get(
        sandbox.sales + "contacts",
        params={"$filter": "lastname eq '@name'", "@name": "'Lee'"},
    )
    assert r.json()["value"] == []
    # an alias may stand for a property; one given no value is null
    r = client.get(
        sandbox.sales + "contacts",
        params={"$orderby": "@p1 desc", "$filter": "@p1 ne @p3", "@p1": "lastname"},
    )
    assert [c["lastname"] for c in r.json()["value"]] == ["Lee", "Alone"]


def test_unknown_select_property_is_worded_as_dataverse(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = client.get(sandbox.sales + "accounts", params={"$select": "Name"})
    assert r.status_code == 400
    assert error_message(r) == (
        "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'."
    )


def test_count_is_capped_at_5000_with_the_total_annotations(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    from sandbox_http_support import Op, post_batch

    for start in range(0, 5002, 1000):
        ops: list[Op | list[Op]] = [
            Op("POST", "accounts", {"name": f"A{i}"}) for i in range(start, min(5002, start + 1000))
        ]
        assert post_batch(client, sandbox.sales, ops).status_code == 200
    totals = 'odata.include-annotations="Microsoft.Dynamics.CRM.*"'
    r = client.get(
        sandbox.sales + "accounts",
        params={"$count": "true", "$select": "name"},
        headers={"Prefer": f"odata.maxpagesize=1,{totals}"},
    )
    body = r.json()
    assert body["@odata.count"] == 5000
    assert body["@Microsoft.Dynamics.CRM.totalrecordcount"] == 5000
    assert body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is True
    r = client.get(
        sandbox.sales + "accounts",
        params={"$count": "true", "$filter": "name eq 'A7'"},
        headers={"Prefer": totals},
    )
    assert r.json()["@odata.count"] == 1
    assert r.json()["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is False
    r = client.get(sandbox.sales + "accounts?$top=1", headers={"Prefer": totals})
    assert r.json()["@Microsoft.Dynamics.CRM.totalrecordcount"] == -1
    assert "@odata.count" not in r.json()


def test_finops_adds_no_dataverse_annotations(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.get(
        sandbox.finops + "CustomerGroups?$top=1",
        headers={"Prefer": 'odata.include-annotations="*"'},
    )
    assert r.status_code == 200
    assert not any("@" in k for v in r.json()["value"] for k in v if k != "@odata.etag")
