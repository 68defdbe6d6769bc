"""The client: statuses become the right exceptions, transient failures are retried within
bounds, Retry-After is honoured, garbage is a clear BadResponseError."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import pytest

from integrator.connectors.http.budget import BudgetLimits, RequestBudget
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.retry import RetryPolicy
from integrator.errors import BadResponseError, RequestRejected, RetriableError
from tests.connectors.http.fakes import ROOT, FakeClock


def _client(
    handler: Callable[[httpx.Request], httpx.Response], *, attempts: int = 4
) -> tuple[ODataClient, list[float]]:
    clock = FakeClock()
    client = ODataClient(
        ROOT,
        transport=httpx.MockTransport(handler),
        budget=RequestBudget(BudgetLimits(100, 1.0, 4), clock=clock, sleep=clock.sleep),
        retry=RetryPolicy(max_attempts=attempts, base_delay=0.01, rng=random.Random(1)),
        sleep=clock.sleep,
    )
    return client, clock.slept


def _answers(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler


def test_429_waits_retry_after_then_succeeds() -> None:
    client, slept = _client(
        _answers(
            httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {"message": "x"}}),
            httpx.Response(200, json={"value": []}),
        )
    )

    assert client.get_json("contacts") == {"value": []}
    assert client.requests_sent == 2
    assert len(slept) == 1 and 7 <= slept[0] <= 7.01


def test_5xx_and_dropped_connections_are_retried_with_bounded_backoff() -> None:
    client, slept = _client(
        _answers(
            httpx.Response(503, text="busy"),
            httpx.ConnectError("refused"),
            httpx.RemoteProtocolError("peer closed"),
            httpx.Response(200, json={"ok": True}),
        )
    )

    assert client.get_json("x") == {"ok": True}
    assert len(slept) == 3
    assert all(0 <= s <= 0.01 * 2**n for n, s in enumerate(slept))


def test_giving_up_raises_the_last_transient_error() -> None:
    client, _ = _client(lambda request: httpx.Response(500, json={"error": {"message": "boom"}}))

    with pytest.raises(RetriableError, match="HTTP 500: boom") as caught:
        client.get_json("contacts")

    assert caught.value.status == 500
    assert client.requests_sent == 4


def test_other_4xx_is_rejected_at_once_with_the_odata_message_and_code() -> None:
    client, slept = _client(
        lambda request: httpx.Response(
            400, json={"error": {"code": "0x80060888", "message": "Could not find a property"}}
        )
    )

    with pytest.raises(RequestRejected) as caught:
        client.get_json("contacts?$select=nope")

    assert caught.value.status == 400 and caught.value.code == "0x80060888"
    assert "Could not find a property" in str(caught.value)
    assert "contacts" in str(caught.value)
    assert slept == [] and client.requests_sent == 1


def test_expired_delta_token_is_checkpoint_expired() -> None:
    client, _ = _client(
        lambda r: httpx.Response(
            410, json={"error": {"code": "ExpiredVersionStamp", "message": "too old"}}
        )
    )

    with pytest.raises(RequestRejected) as caught:
        client.get_json("contacts?$deltatoken=1")

    assert caught.value.code == "checkpoint-expired"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html><body>Service Unavailable</body></html>", "looks like HTML"),
        (b'{"value": [{"a": 1}, ', "malformed or cut short"),
        (b"", "empty"),
        (b"[1, 2]", "expected a JSON object, got list"),
    ],
)
def test_garbage_bodies_are_bad_responses_naming_the_url(body: bytes, words: str) -> None:
    client, _ = _client(lambda request: httpx.Response(200, content=body))

    with pytest.raises(BadResponseError) as caught:
        client.get_json("contacts")

    assert words in str(caught.value)
    assert f"GET {ROOT}contacts" in str(caught.value)


def test_a_page_without_value_is_a_bad_response() -> None:
    client, _ = _client(lambda request: httpx.Response(200, json={"records": []}))

    with pytest.raises(BadResponseError, match="no 'value' list"):
        list(client.pages("contacts"))


def test_next_links_are_followed_unchanged() -> None:
    seen: list[str] = []
    link = ROOT + "contacts?$skiptoken=%3Ccookie%20pagenumber=%222%22/%3E"

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if len(seen) == 1:
            return httpx.Response(200, json={"value": [1], "@odata.nextLink": link})
        return httpx.Response(200, json={"value": [2]})

    client, _ = _client(handler)
    pages = list(client.pages("contacts", params={"$select": "a"}, headers={"Prefer": "p"}))

    assert [p["value"] for p in pages] == [[1], [2]]
    assert seen[1] == link


def test_tls_verification_is_on_by_default() -> None:
    client = ODataClient("https://example.test/data/")
    pool = client._http._transport._pool  # type: ignore[attr-defined]
    assert pool._ssl_context.verify_mode.name == "CERT_REQUIRED"


def test_links_to_another_host_are_not_followed_with_our_credentials() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(
            200, json={"value": [1], "@odata.nextLink": "https://evil.test/steal?$skiptoken=1"}
        )

    client, _ = _client(handler)

    with pytest.raises(BadResponseError, match=r"outside the service http://service\.test"):
        list(client.pages("contacts"))
    assert seen == [ROOT + "contacts"]
