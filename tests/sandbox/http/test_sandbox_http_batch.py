"""$batch: multipart/mixed, change sets atomic, continue-on-error, Content-ID, size limit."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sandbox_http_support import Op, batch_body, batch_responses, error_message, post_batch

from integrator.sandbox.testing import SandboxHandle


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def _lastnames(client: httpx.Client, sandbox: SandboxHandle) -> list[str]:
    r = client.get(
        sandbox.sales + "contacts", params={"$select": "lastname", "$orderby": "lastname"}
    )
    return [v["lastname"] for v in r.json()["value"]]


def test_operations_and_a_get_in_one_batch(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = post_batch(
        client,
        sandbox.sales,
        [
            Op("POST", sandbox.sales + "contacts", {"lastname": "A"}),
            Op("PATCH", "contacts(msdynce_contactnumber='CON-09000-ZZZZZZ')", {"lastname": "B"}),
            Op("GET", "/sales/api/data/v9.2/contacts?$select=lastname&$orderby=lastname"),
        ],
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("multipart/mixed; boundary=batchresponse_")
    parts = batch_responses(r)
    assert [p.status for p in parts] == [204, 204, 200]
    assert parts[0].headers["odata-entityid"].startswith(sandbox.sales + "contacts(")
    assert [v["lastname"] for v in parts[2].json()["value"]] == ["A", "B"]
    counts = sandbox.request_counts()
    assert counts["requests"] == {"sales": {"POST": 1}}
    assert counts["batch_operations"]["sales"] == {"POST": 1, "PATCH": 1, "GET": 1}


def test_a_failed_change_set_leaves_no_trace(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = post_batch(
        client,
        sandbox.sales,
        [
            [
                Op("POST", "contacts", {"lastname": "In set 1"}, content_id="1"),
                Op("POST", "contacts", {"lastname": "In set 2"}, content_id="2"),
                Op("POST", "contacts", {"lastname": "Bad", "shoesize": 1}, content_id="3"),
            ],
            Op("POST", "contacts", {"lastname": "After"}),
        ],
        prefer="odata.continue-on-error",
    )
    assert r.status_code == 200
    parts = batch_responses(r)
    assert [p.status for p in parts] == [400, 204]
    assert "'shoesize'" in parts[0].json()["error"]["message"]
    assert _lastnames(client, sandbox) == ["After"]


def test_a_successful_change_set_commits_and_content_ids_resolve(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = post_batch(
        client,
        sandbox.sales,
        [
            [
                Op("POST", "accounts", {"name": "Parent"}, content_id="1"),
                Op(
                    "POST",
                    "contacts",
                    {"lastname": "Child", "parentcustomerid_account@odata.bind": "$1"},
                    content_id="2",
                ),
                Op("PATCH", "$1", {"telephone1": "555"}, content_id="3"),
            ]
        ],
    )
    assert r.status_code == 200, r.text
    assert [p.status for p in batch_responses(r)] == [204, 204, 204]
    contact = client.get(sandbox.sales + "contacts").json()["value"][0]
    account = client.get(sandbox.sales + "accounts").json()["value"][0]
    assert contact["_parentcustomerid_value"] == account["accountid"]
    assert account["telephone1"] == "555"


def test_without_continue_on_error_the_batch_stops_at_the_first_failure(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = post_batch(
        client,
        sandbox.sales,
        [
            Op("POST", "contacts", {"lastname": "One"}),
            Op("POST", "contacts", {"lastname": 2}),
            Op("POST", "contacts", {"lastname": "Three"}),
        ],
    )
    assert r.status_code == 400
    parts = batch_responses(r)
    assert [p.status for p in parts] == [204, 400]
    assert "'lastname'" in parts[1].json()["error"]["message"]
    assert _lastnames(client, sandbox) == ["One"]


def test_continue_on_error_reports_each_failure(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    ops: list[Op | list[Op]] = [
        Op("POST", "contacts", {"lastname": f"N{i:04d}" if i % 100 else "x" * 60})
        for i in range(1000)
    ]
    r = post_batch(client, sandbox.sales, ops, prefer="odata.continue-on-error")
    assert r.status_code == 200
    assert r.headers["Preference-Applied"] == "odata.continue-on-error"
    statuses = [p.status for p in batch_responses(r)]
    assert len(statuses) == 1000
    assert [i for i, s in enumerate(statuses) if s == 400] == list(range(0, 1000, 100))
    assert len(_lastnames(client, sandbox)) == 990


def test_oversized_batch_is_refused_whole(sandbox: SandboxHandle, client: httpx.Client) -> None:
    ops: list[Op | list[Op]] = [Op("POST", "contacts", {"lastname": "x"}) for _ in range(1001)]
    r = post_batch(client, sandbox.sales, ops)
    assert r.status_code == 400
    assert "1001" in error_message(r) and "1000" in error_message(r)
    assert _lastnames(client, sandbox) == []


def test_get_inside_a_change_set_is_refused(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = post_batch(client, sandbox.sales, [[Op("GET", "contacts")]])
    assert r.status_code == 400
    assert "change set" in error_message(r)


def test_undeclared_content_id_reference_fails_that_operation(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    r = post_batch(client, sandbox.sales, [[Op("PATCH", "$7", {"name": "x"})]])
    parts = batch_responses(r)
    assert parts[0].status == 400
    assert "$7" in parts[0].json()["error"]["message"]


def test_batch_without_boundary_is_a_400(sandbox: SandboxHandle, client: httpx.Client) -> None:
    r = client.post(
        sandbox.sales + "$batch", content=b"nothing", headers={"Content-Type": "multipart/mixed"}
    )
    assert r.status_code == 400
    assert "boundary" in error_message(r)


def test_bare_lf_line_endings_are_accepted(sandbox: SandboxHandle, client: httpx.Client) -> None:
    content_type, body = batch_body([Op("POST", "contacts", {"lastname": "LF"})])
    r = client.post(
        sandbox.sales + "$batch",
        content=body.replace(b"\r\n", b"\n"),
        headers={"Content-Type": content_type},
    )
    assert r.status_code == 200, r.text
    assert [p.status for p in batch_responses(r)] == [204]
    assert _lastnames(client, sandbox) == ["LF"]


def test_parallel_batches_are_written_one_at_a_time_with_unique_numbers(
    sandbox: SandboxHandle,
) -> None:
    def send(worker: int) -> httpx.Response:
        ops: list[Op | list[Op]] = [
            Op("POST", "contacts", {"lastname": f"W{worker}-{i}"}) for i in range(250)
        ]
        with httpx.Client(timeout=120) as c:
            return post_batch(c, sandbox.sales, ops)

    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(send, range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    with httpx.Client(timeout=60) as c:
        numbers = [
            v["msdynce_contactnumber"]
            for v in c.get(
                sandbox.sales + "contacts", params={"$select": "msdynce_contactnumber"}
            ).json()["value"]
        ]
    assert len(numbers) == 1000 and len(set(numbers)) == 1000
    assert {n[:9] for n in numbers} >= {"CON-01000", "CON-01999"}
