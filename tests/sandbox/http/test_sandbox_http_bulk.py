"""Dataverse's bulk messages: CreateMultiple, UpdateMultiple, UpsertMultiple, all or nothing,
and the sdkmessagefilters catalogue that says which tables offer them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from integrator.sandbox.testing import SandboxHandle

_TYPE = {"@odata.type": "Microsoft.Dynamics.CRM.contact"}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def _post(
    client: httpx.Client, sandbox: SandboxHandle, action: str, targets: Any
) -> httpx.Response:
    return client.post(
        f"{sandbox.sales}contacts/Microsoft.Dynamics.CRM.{action}", json={"Targets": targets}
    )


def _contacts(client: httpx.Client, sandbox: SandboxHandle) -> dict[str, str]:
    r = client.get(sandbox.sales + "contacts", params={"$select": "msdynce_contactnumber,lastname"})
    return {v["msdynce_contactnumber"]: v["lastname"] for v in r.json()["value"]}


def test_create_multiple_answers_the_new_ids(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = _post(client, sandbox, "CreateMultiple", [{**_TYPE, "lastname": n} for n in "ABC"])

    assert r.status_code == 200
    body = r.json()
    assert body["@odata.context"].endswith(
        "$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse"
    )
    assert len(body["Ids"]) == 3
    got = client.get(f"{sandbox.sales}contacts({body['Ids'][1]})", params={"$select": "lastname"})
    assert got.json()["lastname"] == "B"
    counts = sandbox.request_counts()
    assert counts["requests"] == {"sales": {"POST": 1, "GET": 1}}
    assert counts["bulk_targets"] == {"sales": {"CreateMultiple": 3}}


def test_upsert_multiple_by_alternate_key_creates_and_updates(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    def target(number: str, lastname: str) -> dict[str, Any]:
        return {**_TYPE, "@odata.id": f"contacts(msdynce_contactnumber='{number}')",
                "lastname": lastname}  # fmt: skip

    first = _post(client, sandbox, "UpsertMultiple", [target("N-1", "One"), target("N-2", "Two")])
    again = _post(
        client, sandbox, "UpsertMultiple", [target("N-2", "Deux"), target("N-3", "Trois")]
    )

    assert (first.status_code, first.content) == (204, b"")
    assert again.status_code == 204
    assert _contacts(client, sandbox) == {"N-1": "One", "N-2": "Deux", "N-3": "Trois"}


def test_update_multiple_by_primary_key_and_a_missing_record(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    ids = _post(client, sandbox, "CreateMultiple", [{**_TYPE, "lastname": "A"}]).json()["Ids"]
    missing = "00000000-0000-0000-0000-000000000001"

    done = _post(
        client, sandbox, "UpdateMultiple", [{**_TYPE, "contactid": ids[0], "lastname": "Z"}]
    )
    refused = _post(
        client,
        sandbox,
        "UpdateMultiple",
        [{**_TYPE, "contactid": ids[0], "lastname": "Y"}, {**_TYPE, "contactid": missing,
                                                          "lastname": "X"}],
    )  # fmt: skip

    assert done.status_code == 204
    assert refused.status_code == 404
    assert missing in refused.json()["error"]["message"]
    r = client.get(f"{sandbox.sales}contacts({ids[0]})", params={"$select": "lastname"})
    assert r.json()["lastname"] == "Z"  # the first target of the refused request was undone


def test_one_bad_record_fails_the_whole_request_and_writes_nothing(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    targets = [
        {**_TYPE, "@odata.id": "contacts(msdynce_contactnumber='N-1')", "lastname": "Fine"},
        {**_TYPE, "@odata.id": "contacts(msdynce_contactnumber='N-2')", "lastname": "x" * 500},
    ]

    r = _post(client, sandbox, "UpsertMultiple", targets)

    assert r.status_code == 400
    assert "lastname" in r.json()["error"]["message"]
    assert _contacts(client, sandbox) == {}


@pytest.mark.parametrize(
    ("targets", "says"),
    [
        ([{"lastname": "A"}], "@odata.type annotation is required"),
        ([{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "A"}], "same table"),
        ([], "at least one"),
        ("nope", "collection"),
    ],
)
def test_malformed_targets_are_refused(
    sandbox: SandboxHandle, client: httpx.Client, targets: Any, says: str
) -> None:
    r = _post(client, sandbox, "CreateMultiple", targets)

    assert r.status_code == 400
    assert says in r.json()["error"]["message"]
    assert _contacts(client, sandbox) == {}


def test_bulk_requests_are_counted_and_take_injected_faults(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    sandbox.set_faults(rate_429=1.0, retry_after=1, services=["sales"])
    r = _post(client, sandbox, "CreateMultiple", [{**_TYPE, "lastname": "A"}])
    sandbox.clear_faults()

    assert r.status_code == 429
    assert r.headers["retry-after"] == "1"
    assert sandbox.request_counts()["requests"]["sales"] == {"POST": 1}
    assert _contacts(client, sandbox) == {}


def _filters(client: httpx.Client, url: str, message: str, table: str) -> list[Any]:
    r = client.get(
        url + "sdkmessagefilters",
        params={
            "$select": "sdkmessagefilterid",
            "$filter": "sdkmessageid/name eq @message and primaryobjecttypecode eq @table",
            "@message": f"'{message}'",
            "@table": f"'{table}'",
        },
    )
    assert r.status_code == 200, r.text
    value: list[Any] = r.json()["value"]
    return value


def test_message_filters_say_which_tables_offer_the_messages(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    assert len(_filters(client, sandbox.sales, "UpsertMultiple", "contact")) == 1
    assert _filters(client, sandbox.sales, "NoSuchMessage", "contact") == []
    assert _filters(client, sandbox.sales, "CreateMultiple", "nosuchtable") == []
    handler = sandbox._server.sandbox.handlers["sales"]
    handler.bulk_message_sets = {"accounts"}
    try:
        assert _filters(client, sandbox.sales, "UpsertMultiple", "contact") == []
        r = _post(client, sandbox, "UpsertMultiple", [{**_TYPE, "lastname": "A"}])
        assert r.status_code == 400
        assert "does not support entities of type 'contact'" in r.json()["error"]["message"]
    finally:
        handler.bulk_message_sets = None


def test_metadata_declares_the_bound_actions(sandbox: SandboxHandle, client: httpx.Client) -> None:
    text = client.get(sandbox.sales + "$metadata").text

    for message in ("CreateMultiple", "UpdateMultiple", "UpsertMultiple"):
        assert f'<Action Name="{message}" IsBound="true">' in text
    assert 'Type="Collection(mscrm.crmbaseentity)"' in text
    assert "UpsertMultiple" not in client.get(sandbox.finops + "$metadata").text


def test_one_get_asks_for_both_messages_and_names_each_row_by_expand(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = client.get(
        sandbox.sales + "sdkmessagefilters",
        params={
            "$select": "sdkmessagefilterid",
            "$expand": "sdkmessageid($select=name)",
            "$filter": "(sdkmessageid/name eq 'CreateMultiple' or sdkmessageid/name eq"
            " 'UpsertMultiple') and primaryobjecttypecode eq 'contact'",
        },
    )
    assert r.status_code == 200, r.text
    names = sorted(row["sdkmessageid"]["name"] for row in r.json()["value"])
    assert names == ["CreateMultiple", "UpsertMultiple"]
    refused = client.get(
        sandbox.sales + "sdkmessagefilters",
        params={"$select": "sdkmessagefilterid", "$filter": "statecode eq 0"},
    )
    assert refused.status_code == 400
