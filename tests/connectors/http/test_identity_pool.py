"""A pool of identities for one system: configured in ``auth.identities``, and the connector
talking as the one with the most of its request budget to spare."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from integrator.connectors.configuration import Auth
from integrator.connectors.http.auth import Secret, StaticTokenAuth
from integrator.connectors.http.budget import BudgetLimits, least_loaded, place, shared_budget
from integrator.connectors.http.pg_budget import PostgresBudget
from integrator.connectors.registry import open_connection

from ..connections import connection
from .budget_databases import budget_database

LIMITS = BudgetLimits(100, 60.0, 4)


def token_identity(token: str) -> str:
    return StaticTokenAuth(Secret(token)).identity


def test_a_single_identity_is_configured_as_before() -> None:
    auth = Auth.model_validate({"type": "token", "token": {"env": "SANDBOX_TOKEN"}})

    assert auth.identities == ()
    assert auth.each() == [auth]


def test_a_pool_lists_more_identities_of_the_same_sign_in_type() -> None:
    auth = Auth.model_validate(
        {
            "type": "client_credentials",
            "tenant_id": "contoso",
            "client_id": "app-1",
            "client_secret": {"env": "APP_1"},
            "identities": [{"client_id": "app-2", "client_secret": {"env": "APP_2"}}],
        }
    )

    second = auth.each()[1]
    assert [a.client_id for a in auth.each()] == ["app-1", "app-2"]
    assert second.tenant_id == "contoso" and second.client_secret is not None
    assert second.client_secret.env == "APP_2"


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (
            {"type": "token", "token": {"env": "A"}, "identities": [{"client_id": "x"}]},
            "identities[1] of auth type token takes exactly token",
        ),
        (
            {
                "type": "client_credentials",
                "tenant_id": "t",
                "client_id": "app",
                "client_secret": {"env": "A"},
                "identities": [{"client_id": "app", "client_secret": {"env": "B"}}],
            },
            "each client_id may be listed once",
        ),
        ({"type": "none", "identities": []}, "auth type none does not take identities"),
    ],
)
def test_a_pool_that_does_not_fit_its_sign_in_is_refused(
    auth: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Auth.model_validate(auth)


def test_the_connector_talks_as_the_identity_with_the_most_to_spare(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = {"POOL_A": "token-a", "POOL_B": "token-b", "POOL_C": "token-c"}
    for name, token in tokens.items():
        monkeypatch.setenv(name, token)
    host = f"127.0.0.1:{uuid.uuid4().int % 50000 + 10000}"  # budgets of this test only
    used = {"token-a": 3, "token-b": 1, "token-c": 2}
    for token, count in used.items():
        for _ in range(count):
            with shared_budget(host, token_identity(token), LIMITS).slot():
                pass
    settings = connection(
        kind="dataverse",
        url=f"http://{host}/api/data/v9.2/",
        auth={
            "type": "token",
            "token": {"env": "POOL_A"},
            "identities": [{"token": {"env": "POOL_B"}}, {"token": {"env": "POOL_C"}}],
        },
        budget={"requests": 100, "window_seconds": 60, "concurrent": 4},
    )

    connector = open_connection(settings)
    try:
        client = connector.client  # type: ignore[attr-defined]
        assert client.budget is shared_budget(host, token_identity("token-b"), LIMITS)
        assert client._http.auth.identity == token_identity("token-b")
    finally:
        connector.close()


@pytest.fixture
def database() -> Iterator[str]:
    with budget_database() as url:
        yield url


def test_least_loaded_asks_the_shared_budgets(database: str) -> None:
    busy, idle, paused = (
        PostgresBudget("org.test:443", name, LIMITS, database, heartbeat=False)
        for name in ("busy", "idle", "paused")
    )
    try:
        for _ in range(5):
            with busy.slot():
                pass
        with idle.slot():
            pass
        paused.pause(30.0)

        assert [b.spare() for b in (busy, idle, paused)] == [95, 99, 0]
        assert least_loaded([busy, idle, paused]) == 1
    finally:
        for budget in (busy, idle, paused):
            budget.close()


def test_connectors_opened_together_spread_over_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = {"SPREAD_A": "spread-a", "SPREAD_B": "spread-b", "SPREAD_C": "spread-c"}
    for name, token in tokens.items():
        monkeypatch.setenv(name, token)
    host = f"127.0.0.1:{uuid.uuid4().int % 50000 + 10000}"
    settings = connection(
        kind="dataverse",
        url=f"http://{host}/api/data/v9.2/",
        auth={
            "type": "token",
            "token": {"env": "SPREAD_A"},
            "identities": [{"token": {"env": "SPREAD_B"}}, {"token": {"env": "SPREAD_C"}}],
        },
        budget={"requests": 100, "window_seconds": 60, "concurrent": 4},
    )

    # nothing sent yet: every identity has all its budget to spare; seats tell them apart
    opened = [open_connection(settings) for _ in range(4)]
    talking = [c.client._http.auth.identity for c in opened]  # type: ignore[attr-defined]
    opened[1].close()
    again = open_connection(settings)
    for connector in [opened[0], *opened[2:], again]:
        connector.close()

    a, b, c = (token_identity(t) for t in tokens.values())
    assert talking == [a, b, c, a]
    # the second connector's identity had a seat free again once it closed
    assert again.client._http.auth.identity == b  # type: ignore[attr-defined]
    assert all(shared_budget(host, i, LIMITS).seats() == 0 for i in (a, b, c))


def test_processes_placing_at_once_see_each_others_seats(database: str) -> None:
    # two processes' budgets on the same two identities: their own objects, one database
    first = [PostgresBudget("org.test:443", n, LIMITS, database) for n in ("one", "two")]
    second = [PostgresBudget("org.test:443", n, LIMITS, database) for n in ("one", "two")]
    try:
        assert place(first) == 0
        assert place(second) == 1  # "one" is seated in the other process
        assert [b.seats() for b in first] == [1, 1]
        first[0].leave_seat()
        assert place(second) == 0
        assert [b.seats() for b in second] == [1, 1]
    finally:
        for budget in [*first, *second]:
            budget.close()
    assert PostgresBudget("org.test:443", "one", LIMITS, database).seats() == 0


def test_a_killed_processs_seat_is_free_once_it_expires(database: str) -> None:
    gone = PostgresBudget("org.test:443", "one", LIMITS, database, lease_seconds=1.0)
    other = PostgresBudget("org.test:443", "two", LIMITS, database)
    gone.take_seat()
    gone._closed.set()  # its heartbeat stops, as a killed process's does; its row stays
    try:
        assert gone.seats() == 1
        time.sleep(1.5)
        assert gone.seats() == 0
        assert place([gone, other]) == 0
    finally:
        gone.close()
        other.close()
