"""$batch bodies: what we write parses as multipart, and every kind of answer is read right."""

from __future__ import annotations

import orjson
import pytest

from integrator.connectors.http.batch import BatchOperation, decode_batch, encode_batch
from integrator.errors import BadResponseError

URL = "http://127.0.0.1:1/api/data/v9.2/$batch"
MIXED = "multipart/mixed; boundary=b"
HTTP_PART = b"Content-Type: application/http\r\n\r\n"


def _answer(boundary: str, parts: list[str], *, newline: str = "\r\n", close: bool = True) -> bytes:
    text = ""
    for part in parts:
        text += f"--{boundary}{newline}{part}{newline}"
    if close:
        text += f"--{boundary}--{newline}"
    return text.encode()


def _http(status: str, body: str = "", newline: str = "\r\n", content_id: str | None = None) -> str:
    head = f"Content-Type: application/http{newline}Content-Transfer-Encoding: binary{newline}"
    if content_id:
        head += f"Content-ID: {content_id}{newline}"
    inner = f"HTTP/1.1 {status}{newline}OData-Version: 4.0{newline}"
    if body:
        inner += f"Content-Type: application/json{newline}"
    return f"{head}{newline}{inner}{newline}{body}"


def test_encoded_batch_holds_each_operation_in_order_with_its_body() -> None:
    ops = [
        BatchOperation.json("PATCH", "contacts(msdynce_contactnumber='O''Brien')", {"a": "x&y"}),
        BatchOperation("GET", "contacts?$select=a", None, {"Prefer": "odata.maxpagesize=10"}),
    ]
    content_type, body = encode_batch(ops, base_url="http://h/api/", boundary="batch_x")

    assert content_type == "multipart/mixed; boundary=batch_x"
    text = body.decode()
    assert text.count("--batch_x\r\n") == 2 and text.endswith("--batch_x--\r\n")
    first, second = text.split("--batch_x\r\n")[1:]
    assert "Content-ID: 1" in first and "Content-ID: 2" in second
    assert "PATCH http://h/api/contacts(msdynce_contactnumber='O''Brien') HTTP/1.1" in first
    assert orjson.loads(first.split("\r\n\r\n")[2].strip()) == {"a": "x&y"}
    assert "GET http://h/api/contacts?$select=a HTTP/1.1\r\nPrefer: odata.maxpagesize=10" in second


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_answers_come_back_in_order_with_status_headers_and_body(newline: str) -> None:
    body = _answer(
        "batchresponse_1",
        [
            _http("204 No Content", newline=newline),
            _http("400 Bad Request", '{"error":{"code":"x","message":"bad"}}', newline),
            _http("201 Created", '{"id":1}', newline),
        ],
        newline=newline,
    )
    parts = decode_batch('multipart/mixed; boundary="batchresponse_1"', body, expected=3, url=URL)

    assert [p.status for p in parts] == [204, 400, 201]
    assert parts[1].body.strip() == b'{"error":{"code":"x","message":"bad"}}'
    assert parts[2].header("content-type") == "application/json"


def test_change_set_answers_are_flattened_and_matched_by_content_id() -> None:
    inner = _answer(
        "changesetresponse_9",
        [_http("204 No Content", content_id="3"), _http("201 Created", content_id="2")],
    ).decode()
    body = _answer(
        "batchresponse_2",
        [
            _http("200 OK", '{"value":[]}', content_id="1"),
            f"Content-Type: multipart/mixed; boundary=changesetresponse_9\r\n\r\n{inner}",
        ],
    )
    parts = decode_batch("multipart/mixed; boundary=batchresponse_2", body, expected=3, url=URL)

    assert [p.status for p in parts] == [200, 201, 204]


def test_a_batch_that_stopped_early_reports_the_unanswered_operations() -> None:
    body = _answer("b", [_http("204 No Content"), _http("400 Bad Request", "{}")])
    parts = decode_batch("multipart/mixed; boundary=b", body, expected=4, url=URL)

    assert [p.status for p in parts] == [204, 400, None, None]


@pytest.mark.parametrize(
    ("content_type", "body", "words"),
    [
        ("text/html", b"<html><body>Gateway</body></html>", "expected multipart/mixed"),
        ("multipart/mixed", b"--x\r\n", "with a boundary"),
        ("multipart/mixed; boundary=b", b"nothing here", "does not occur"),
        ("multipart/mixed; boundary=b", b"--b\r\n" + _http("204 No Content").encode(), "cut short"),
        (MIXED, b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--", "text/plain"),
        (MIXED, b"--b\r\n" + HTTP_PART + b"HTTP/1.1 OK\r\n\r\n\r\n--b--", "status line"),
        ("multipart/mixed; boundary=b", b"--b\r\nno blank line\r\n--b--", "no blank line"),
    ],
)
def test_garbage_is_a_bad_response_naming_the_url_and_the_problem(
    content_type: str, body: bytes, words: str
) -> None:
    with pytest.raises(BadResponseError) as caught:
        decode_batch(content_type, body, expected=1, url=URL)

    assert URL in str(caught.value)
    assert words in str(caught.value)


def test_more_answers_than_operations_is_a_bad_response() -> None:
    body = _answer("b", [_http("204 No Content"), _http("204 No Content")])
    with pytest.raises(BadResponseError, match="2 answers for 1 operations"):
        decode_batch("multipart/mixed; boundary=b", body, expected=1, url=URL)


def test_what_we_encode_is_what_the_sandbox_executes(sandbox: object) -> None:
    import httpx

    from integrator.sandbox.testing import SandboxHandle

    assert isinstance(sandbox, SandboxHandle)
    ops = [
        BatchOperation.json(
            "PATCH", "contacts(msdynce_contactnumber='CON-1%26%23')", {"lastname": "O'Brien"}
        ),
        BatchOperation("GET", "contacts?$select=lastname,msdynce_contactnumber"),
    ]
    content_type, body = encode_batch(ops, base_url=sandbox.sales)
    response = httpx.post(
        sandbox.sales + "$batch", content=body, headers={"Content-Type": content_type}
    )
    parts = decode_batch(
        response.headers["content-type"], response.content, expected=2, url=sandbox.sales
    )

    assert [p.status for p in parts] == [204, 200]
    rows = orjson.loads(parts[1].body)["value"]
    assert [(r["msdynce_contactnumber"], r["lastname"]) for r in rows] == [("CON-1&#", "O'Brien")]
