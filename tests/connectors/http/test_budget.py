"""The request budget: a sliding window of requests and a cap on requests in flight."""

from __future__ import annotations

import threading
import time

from integrator.connectors.http.budget import BudgetLimits, RequestBudget, shared_budget

from .test_client import FakeClock


def test_window_holds_back_the_request_over_the_limit_until_the_oldest_leaves() -> None:
    clock = FakeClock()
    budget = RequestBudget(BudgetLimits(3, 300.0, 10), clock=clock, sleep=clock.sleep)
    for _ in range(3):
        with budget.slot():
            clock.now += 10
    assert clock.slept == []

    with budget.slot():
        pass

    # the first request was at t=1000; the fourth may go at t=1300
    assert clock.now == 1300.0
    assert sum(clock.slept) == 270.0


def test_a_pause_holds_back_every_request_on_the_budget() -> None:
    clock = FakeClock()
    budget = RequestBudget(BudgetLimits(100, 300.0, 10), clock=clock, sleep=clock.sleep)
    budget.pause(12.5)

    with budget.slot():
        pass

    assert clock.slept == [12.5]


def test_no_more_than_max_concurrent_requests_are_in_flight() -> None:
    budget = RequestBudget(BudgetLimits(1000, 300.0, 3))
    in_flight = 0
    most = 0
    lock = threading.Lock()
    release = threading.Event()

    def request() -> None:
        nonlocal in_flight, most
        with budget.slot():
            with lock:
                in_flight += 1
                most = max(most, in_flight)
            release.wait(5)
            with lock:
                in_flight -= 1

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    while True:
        with lock:
            if in_flight == 3:
                break
        time.sleep(0.001)
    release.set()
    for thread in threads:
        thread.join()

    assert most == 3


def test_connectors_of_one_identity_and_host_share_one_budget() -> None:
    a = shared_budget("org.test:443", "aad:tenant:client")
    b = shared_budget("org.test:443", "aad:tenant:client")
    other = shared_budget("org.test:443", "aad:tenant:other-client")

    stricter = shared_budget("org.test:443", "aad:tenant:client", BudgetLimits(100, 60.0, 4))

    assert a is b
    assert other is not a
    assert a.limits == BudgetLimits(6000, 300.0, 52)
    assert stricter is not a and stricter.limits.max_concurrent == 4
