"""Batch writing against servers that misbehave in ways the sandbox does not: one that ignores
``continue-on-error`` and stops at the first refusal, one that answers garbage."""

from __future__ import annotations

import re
from collections import Counter

import httpx
import orjson
import pytest

from integrator.connectors.base import Outcome
from integrator.connectors.dataverse import DataverseConnection, DataverseConnector
from integrator.connectors.http.clients import open_client
from integrator.errors import BadResponseError

from .test_metadata import DATAVERSE_CSDL

ROOT = "https://crm.test/api/data/v9.2/"


def _operations(request: httpx.Request) -> list[tuple[str, dict[str, object]]]:
    boundary = re.search(r"boundary=(\S+)", request.headers["content-type"])
    assert boundary
    found = []
    for part in request.content.split(b"--" + boundary.group(1).encode())[1:-1]:
        lines = part.decode().split("\r\n")
        request_line = next(line for line in lines if line.startswith(("PATCH", "POST")))
        body = part.decode().rsplit("\r\n\r\n", 1)[1].strip()
        found.append((request_line.split()[1], orjson.loads(body)))
    return found


def _answer(statuses: list[tuple[int, str]]) -> httpx.Response:
    text = ""
    for status, body in statuses:
        text += "--resp\r\nContent-Type: application/http\r\n\r\n"
        text += f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\r\n{body}\r\n"
    text += "--resp--\r\n"
    return httpx.Response(
        200, content=text.encode(), headers={"Content-Type": "multipart/mixed; boundary=resp"}
    )


def _connector(batch: object) -> DataverseConnector:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("$metadata"):
            return httpx.Response(200, content=DATAVERSE_CSDL)
        assert callable(batch)
        response: httpx.Response = batch(request)
        return response

    config = DataverseConnection(url=ROOT, skip_unchanged=False, retry={"base_delay_seconds": 0.0})
    return DataverseConnector(open_client(config, transport=httpx.MockTransport(handler)), config)


def test_a_server_that_stops_at_the_first_refusal_still_gets_every_good_record() -> None:
    stored: dict[str, object] = {}
    batches = 0

    def stop_at_first_error(request: httpx.Request) -> httpx.Response:
        nonlocal batches
        batches += 1
        answers: list[tuple[int, str]] = []
        for url, body in _operations(request):
            if body["lastname"] == "bad":
                answers.append((400, '{"error": {"code": "x", "message": "lastname is bad"}}'))
                break
            stored[url] = body
            answers.append((201, "{}"))
        return _answer(answers)

    connector = _connector(stop_at_first_error)
    records = [
        {"msdynce_contactnumber": f"C{n}", "lastname": "bad" if n % 10 == 3 else f"L{n}"}
        for n in range(100)
    ]

    results = connector.upsert("contacts", records, key=["msdynce_contactnumber"])

    assert Counter(r.outcome for r in results) == {Outcome.INSERTED: 90, Outcome.ERROR: 10}
    assert all(r.message == "lastname is bad" for r in results if r.outcome is Outcome.ERROR)
    assert all(r.field == "lastname" for r in results if r.outcome is Outcome.ERROR)
    assert len(stored) == 90
    assert batches == 11  # one per refusal, then the rest


@pytest.mark.parametrize(
    ("response", "words"),
    [
        (httpx.Response(200, text="<html>Proxy error</html>"), "expected multipart/mixed"),
        (
            httpx.Response(
                200,
                content=b"--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 X\r\n",
                headers={"Content-Type": "multipart/mixed; boundary=r"},
            ),
            "cut short",
        ),
    ],
)
def test_a_batch_answered_with_garbage_is_a_bad_response(
    response: httpx.Response, words: str
) -> None:
    connector = _connector(lambda request: response)

    with pytest.raises(BadResponseError) as caught:
        connector.upsert(
            "contacts", [{"msdynce_contactnumber": "C1"}], key=["msdynce_contactnumber"]
        )

    assert words in str(caught.value) and f"POST {ROOT}$batch" in str(caught.value)
