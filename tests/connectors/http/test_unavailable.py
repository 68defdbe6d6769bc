"""A system that cannot be used at all: it cannot be reached (tried again for a few seconds,
then ``SystemUnreachable``) or it refuses the credentials (``CredentialsRefused`` at once).
Both name the service root, and both end a command with exit code 3."""

from __future__ import annotations

import random
import socket
import ssl
import time
from collections.abc import Callable

import httpx
import pytest

from integrator.connectors.http.budget import BudgetLimits, RequestBudget
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.retry import RetryPolicy
from integrator.errors import CredentialsRefused, RequestRejected, SystemUnreachable
from tests.connectors.http.fakes import ROOT, FakeClock


def _client(
    handler: Callable[[httpx.Request], httpx.Response], *, budget: float = 4.0
) -> tuple[ODataClient, FakeClock]:
    clock = FakeClock()
    client = ODataClient(
        ROOT,
        transport=httpx.MockTransport(handler),
        budget=RequestBudget(BudgetLimits(100, 1.0, 4), clock=clock, sleep=clock.sleep),
        retry=RetryPolicy(
            max_attempts=50, base_delay=0.5, connect_budget=budget, rng=random.Random(3)
        ),
        sleep=clock.sleep,
        clock=clock,
    )
    return client, clock


def _refuse_connection(cause: BaseException) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(str(cause), request=request) from cause

    return handler


def test_a_refused_connection_is_retried_within_the_connect_budget_then_named() -> None:
    client, clock = _client(_refuse_connection(ConnectionRefusedError(111, "refused")))

    with pytest.raises(SystemUnreachable) as caught:
        client.get_json("contacts")

    assert str(caught.value) == (
        f"the system cannot be reached at {ROOT}: connection refused (nothing listens there)"
    )
    assert caught.value.exit_code == 3
    assert 1 < client.requests_sent < 50  # retried briefly, not max_attempts times
    assert sum(clock.slept) < 4.0


def test_a_host_that_is_not_found_says_so() -> None:
    client, _ = _client(_refuse_connection(socket.gaierror(-2, "Name or service not known")))

    with pytest.raises(SystemUnreachable, match="its host name was not found"):
        client.get_json("contacts")


def test_an_untrusted_certificate_is_not_retried() -> None:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "self-signed certificate"
    client, clock = _client(_refuse_connection(error))

    with pytest.raises(
        SystemUnreachable, match=r"the certificate of service.test is not trusted: self-signed"
    ):
        client.get_json("contacts")

    assert client.requests_sent == 1 and clock.slept == []


def test_a_closed_port_gives_up_within_the_connect_budget_in_real_time() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ODataClient(
        f"http://127.0.0.1:{port}/sales/api/data/v9.2/", retry=RetryPolicy(connect_budget=2.0)
    )
    started = time.monotonic()

    with pytest.raises(SystemUnreachable, match=f"127.0.0.1:{port}/sales/api/data/v9.2/"):
        client.get_json("EntityDefinitions")

    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize(("method", "status"), [("GET", 401), ("POST", 401), ("GET", 403)])
def test_401_and_a_403_to_a_read_refuse_the_credentials_at_once(method: str, status: int) -> None:
    client, clock = _client(
        lambda r: httpx.Response(status, json={"error": {"code": "0x80072560", "message": "no"}})
    )

    with pytest.raises(CredentialsRefused) as caught:
        client.request(method, "contacts")

    assert str(caught.value) == f"the system refused the credentials at {ROOT}: HTTP {status}: no"
    assert client.requests_sent == 1 and clock.slept == []


def test_a_403_to_a_write_is_the_record_s_refusal() -> None:
    client, _ = _client(
        lambda r: httpx.Response(403, json={"error": {"message": "missing prvWriteAccount"}})
    )

    with pytest.raises(RequestRejected, match="missing prvWriteAccount") as caught:
        client.request("PATCH", "accounts(1)")

    assert not isinstance(caught.value, CredentialsRefused)


def test_a_redirect_to_sign_in_refuses_the_credentials() -> None:
    sign_in = "https://login.microsoftonline.com/common/oauth2/authorize?client_id=x"
    client, _ = _client(lambda r: httpx.Response(302, headers={"Location": sign_in}))

    with pytest.raises(CredentialsRefused, match="redirects to the sign-in page at login"):
        client.get_json("contacts")


def test_another_redirect_says_which_url_to_use() -> None:
    client, _ = _client(
        lambda r: httpx.Response(301, headers={"Location": "https://service.test/api/"})
    )

    with pytest.raises(SystemUnreachable, match=r"a redirect to https://service\.test/api/"):
        client.get_json("contacts")
