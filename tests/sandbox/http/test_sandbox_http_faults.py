"""Fault injection and request counting."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from integrator.sandbox.http import FaultConfig
from integrator.sandbox.testing import SandboxHandle, running_sandbox


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as c:
        yield c


def _statuses(client: httpx.Client, url: str, n: int) -> list[int]:
    return [client.get(url).status_code for _ in range(n)]


def test_rates_are_reproducible_and_near_the_asked_share(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    url = sandbox.finops + "Languages?$top=1"
    sandbox.set_faults(rate_429=0.2, rate_503=0.1, rate_500=0.1, seed=7, retry_after=3)
    first = _statuses(client, url, 300)
    sandbox.set_faults(rate_429=0.2, rate_503=0.1, rate_500=0.1, seed=7, retry_after=3)
    assert _statuses(client, url, 300) == first
    assert 30 <= first.count(429) <= 90
    assert 10 <= first.count(503) <= 50
    assert 10 <= first.count(500) <= 50
    assert first.count(200) == 300 - first.count(429) - first.count(503) - first.count(500)
    sandbox.set_faults(rate_429=1.0, retry_after=3)
    r = client.get(url)
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    assert r.json()["error"]["code"] == "0x80072322"
    sandbox.clear_faults()
    assert set(_statuses(client, url, 20)) == {200}


def test_faults_can_target_one_service(sandbox: SandboxHandle, client: httpx.Client) -> None:
    sandbox.set_faults(rate_503=1.0, services=["finops"])
    assert client.get(sandbox.finops + "Languages").status_code == 503
    assert client.get(sandbox.sales + "contacts").status_code == 200


def test_request_budget_behaves_like_service_protection(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    sandbox.set_faults(budget_requests=5, budget_window_seconds=300)
    url = sandbox.sales + "contacts"
    assert _statuses(client, url, 4) == [200] * 4
    last = client.get(url)
    assert last.status_code == 200
    assert last.headers["x-ms-ratelimit-burst-remaining-xrm-requests"] == "0"
    r = client.get(url)
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "0x80072322"
    assert 290 <= int(r.headers["Retry-After"]) <= 300
    other = client.get(url, headers={"Authorization": "Bearer someone-else"})
    assert other.status_code == 200


def test_bad_fault_config_is_refused(sandbox: SandboxHandle) -> None:
    r = httpx.put(sandbox.url + "/_sandbox/faults", json={"rate_429": 2})
    assert r.status_code == 400 and "rate_429" in r.json()["error"]["message"]
    r = httpx.put(sandbox.url + "/_sandbox/faults", json={"rate_999": 0.1})
    assert r.status_code == 400 and "rate_999" in r.json()["error"]["message"]
    assert httpx.get(sandbox.url + "/_sandbox/faults").json()["rate_429"] == 0


def test_faults_set_at_start(tmp_path: Path, client: httpx.Client) -> None:
    with running_sandbox(tmp_path / "sb", faults=FaultConfig(rate_500=1.0)) as sb:
        assert client.get(sb.sales + "contacts").status_code == 500
        assert httpx.get(sb.url + "/_sandbox/faults").json()["rate_500"] == 1.0


def test_request_counts_per_service_and_method(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    client.get(sandbox.sales + "contacts")
    client.get(sandbox.sales + "accounts")
    client.post(sandbox.cds + "organizations", json={"OrganizationId": "ORG002"})
    client.get(sandbox.finops + "Nothing")
    counts = sandbox.request_counts()
    assert counts["total"] == 4
    assert counts["requests"] == {
        "sales": {"GET": 2},
        "cds": {"POST": 1},
        "finops": {"GET": 1},
    }
    assert counts["statuses"]["finops"] == {"404": 1}
    sandbox.reset_request_counts()
    assert sandbox.request_counts()["total"] == 0


def test_concurrency_limit(sandbox: SandboxHandle) -> None:
    # the added latency keeps every request in flight while the others arrive
    sandbox.set_faults(budget_concurrent=2, latency_ms=400)

    def get(_: int) -> httpx.Response:
        return httpx.get(sandbox.sales + "contacts", timeout=30)

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(get, range(6)))
    refused = [r for r in responses if r.status_code == 429]
    assert refused and len(refused) <= 4
    assert {r.json()["error"]["code"] for r in refused} == {"0x80072326"}
    assert "Retry-After" in refused[0].headers
