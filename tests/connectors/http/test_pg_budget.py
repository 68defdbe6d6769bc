"""The PostgreSQL-backed request budget, two holders in one test standing for two processes,
on an injected clock (the real database, no heartbeat: time is the test's)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import psycopg
import pytest

from integrator.connectors.http.budget import BudgetLimits, RequestBudget, shared_budget
from integrator.connectors.http.pg_budget import PostgresBudget
from integrator.connectors.http.pg_budget_tables import libpq_url

from .budget_databases import budget_database
from .fakes import FakeClock as Clock


@pytest.fixture
def database() -> Iterator[str]:
    with budget_database() as url:
        yield url


@pytest.fixture
def clock() -> Clock:
    return Clock()


def holder(database: str, clock: Clock, limits: BudgetLimits, **options: object) -> PostgresBudget:
    return PostgresBudget(
        "org.test:443",
        "aad:tenant:client",
        limits,
        database,
        buckets=30,
        clock=clock,
        sleep=clock.sleep,
        heartbeat=False,
        **options,  # type: ignore[arg-type]
    )


def test_two_holders_together_stay_within_the_window(database: str, clock: Clock) -> None:
    limits = BudgetLimits(3, 30.0, 10)  # 1 s buckets
    first, second = holder(database, clock, limits), holder(database, clock, limits)
    for budget in (first, second, first):
        with budget.slot():
            pass
        clock.now += 10
    assert clock.slept == []

    with second.slot():
        pass

    # the first request (bucket [1000, 1001)) stops counting at 1031
    assert clock.now == pytest.approx(1031.0)
    assert second.waited_seconds == pytest.approx(1.0)


def test_a_request_counts_until_a_window_after_it_ended(database: str, clock: Clock) -> None:
    limits = BudgetLimits(1, 30.0, 10)
    first, second = holder(database, clock, limits), holder(database, clock, limits)
    with first.slot():
        clock.now += 12.0  # a slow answer: the server may have counted it at 1012

    with second.slot():
        pass

    assert clock.now == pytest.approx(1043.0)


def test_a_pause_from_one_holder_holds_back_the_other(database: str, clock: Clock) -> None:
    limits = BudgetLimits(100, 300.0, 10)
    first, second = holder(database, clock, limits), holder(database, clock, limits)
    with first.slot():
        pass

    second.pause(12.5)
    clock.now += 1  # past first's refresh: it looks at the shared state again
    with first.slot():
        pass

    assert clock.slept == [pytest.approx(11.5)]


def test_the_concurrency_cap_is_shared_and_a_dead_holders_lease_expires(
    database: str, clock: Clock
) -> None:
    limits = BudgetLimits(100, 300.0, 2)
    gone, alive = (holder(database, clock, limits, lease_seconds=30.0) for _ in range(2))
    with ExitStack() as held:
        held.enter_context(gone.slot())
        held.enter_context(gone.slot())  # never let go: its process was killed

        with alive.slot():
            pass

    # no slot until the dead holder's lease (taken at 1000, 30 s) had expired
    assert 1030.0 <= clock.now < 1031.0


def test_tokens_reserved_and_not_used_are_given_back_on_close(database: str, clock: Clock) -> None:
    limits = BudgetLimits(6, 300.0, 10)
    first = holder(database, clock, limits, chunk=5)
    second = holder(database, clock, limits, chunk=1)
    with first.slot():  # reserves 5, uses 1
        pass
    first.close()

    for _ in range(5):
        with second.slot():
            pass

    assert clock.slept == []


def test_the_tables_are_made_on_first_use_in_the_history_database(database: str) -> None:
    budget = shared_budget(
        "org.test:443", "token:1", BudgetLimits(10, 60.0, 2), database_url=database
    )
    assert isinstance(budget, PostgresBudget)
    with budget.slot():
        pass
    budget.close()

    with psycopg.connect(libpq_url(database)) as connection:
        leases = connection.execute("SELECT count(*) FROM integrator_budget_lease").fetchone()
        used = connection.execute("SELECT sum(used) FROM integrator_budget_window").fetchone()
    assert leases == (0,)
    assert used == (1,)
    assert isinstance(shared_budget("org.test:443", "token:1"), RequestBudget)


def test_a_lost_connection_is_opened_again(database: str, clock: Clock) -> None:
    budget = holder(database, clock, BudgetLimits(100, 300.0, 10))
    with budget.slot():
        pass
    with psycopg.connect(libpq_url(database), autocommit=True) as admin:
        # what a server restart does to every session
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    clock.now += 1

    with budget.slot():
        pass

    budget.close()
    with psycopg.connect(libpq_url(database)) as connection:
        used = connection.execute("SELECT sum(used) FROM integrator_budget_window").fetchone()
    assert used == (2,)
