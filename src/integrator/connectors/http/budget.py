"""A client-side request budget: requests per sliding window and requests in flight.

Dataverse's service protection counts requests per user over a 5-minute sliding window (6000)
and requests in flight (52). Staying under both on the client side avoids 429s instead of
paying for them. Every connector that talks as one identity to one host shares one
:class:`RequestBudget` (see :func:`shared_budget`), so two tasks running at once cannot together
exceed the limit. A 429's ``Retry-After`` pauses everyone sharing the budget, not just the
request that got it.

Across processes (workers sharing a PostgreSQL history database) the same interface is kept in
PostgreSQL by :class:`~integrator.connectors.http.pg_budget.PostgresBudget`;
:func:`shared_budget` hands out that one when given the database's URL.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from integrator.connectors.http.budget_limits import Budget, BudgetLimits
from integrator.connectors.http.pg_budget import PostgresBudget

__all__ = [
    "DATAVERSE_LIMITS",
    "Budget",
    "BudgetLimits",
    "RequestBudget",
    "least_loaded",
    "place",
    "share_budgets_through",
    "shared_budget",
]

#: Dataverse's service protection limits per user: 6000 requests per 5 minutes, 52 at once
DATAVERSE_LIMITS = BudgetLimits()


class RequestBudget:
    """Admits a request when both the sliding window and the concurrency cap have room."""

    def __init__(
        self,
        limits: BudgetLimits = DATAVERSE_LIMITS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limits.max_requests < 1 or limits.max_concurrent < 1 or limits.window_seconds <= 0:
            raise ValueError(f"request budget limits must be positive: {limits}")
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._in_flight = threading.BoundedSemaphore(limits.max_concurrent)
        self._lock = threading.Lock()
        self._sent: collections.deque[float] = collections.deque()
        self._paused_until = 0.0
        self._seats = 0
        self.waited_seconds = 0.0

    def seats(self) -> int:
        """Connectors of this process open on this budget's identity."""
        with self._lock:
            return self._seats

    def take_seat(self) -> None:
        """One more connector talks as this budget's identity."""
        with self._lock:
            self._seats += 1

    def leave_seat(self) -> None:
        """A connector that took a seat is closed."""
        with self._lock:
            self._seats = max(0, self._seats - 1)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one request slot for the duration of the block (blocks until one is free)."""
        self._in_flight.acquire()
        try:
            self._admit()
            yield
        finally:
            self._in_flight.release()

    def pause(self, seconds: float) -> None:
        """Hold back every request on this budget for ``seconds`` (a 429's ``Retry-After``)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def spare(self) -> int:
        """Requests the window has room for now (0 while paused)."""
        with self._lock:
            now = self._clock()
            horizon = now - self.limits.window_seconds
            while self._sent and self._sent[0] <= horizon:
                self._sent.popleft()
            if now < self._paused_until:
                return 0
            return max(0, self.limits.max_requests - len(self._sent))

    def _admit(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                horizon = now - self.limits.window_seconds
                while self._sent and self._sent[0] <= horizon:
                    self._sent.popleft()
                wait = self._paused_until - now
                if len(self._sent) >= self.limits.max_requests:
                    wait = max(wait, self._sent[0] - horizon)
                if wait <= 0:
                    self._sent.append(now)
                    return
                self.waited_seconds += wait
            self._sleep(wait)


_SHARED: dict[tuple[str, str, BudgetLimits, str | None], Budget] = {}
_SHARED_LOCK = threading.Lock()
#: where this process's budgets live when :func:`shared_budget` is not told (``None``: here)
_DATABASE: list[str | None] = [None]


def share_budgets_through(database_url: str | None) -> None:
    """Keep this process's budgets from now on in the PostgreSQL database at ``database_url``
    (shared with every process doing the same), or in this process (``None``)."""
    _DATABASE[0] = database_url


def shared_budget(
    host: str,
    identity: str,
    limits: BudgetLimits | None = None,
    *,
    database_url: str | None = None,
) -> Budget:
    """The one budget for ``identity`` talking to ``host`` under ``limits`` in this process.

    Connectors configured alike share it; a connector configured with other limits gets its own.
    With ``database_url`` (a PostgreSQL URL) the budget is kept in that database and shared with
    every process using the same database, identity and host (``PostgresBudget``); without, in
    the database :func:`share_budgets_through` named, else in this process (``RequestBudget``).
    """
    limits = limits or BudgetLimits()
    database_url = database_url or _DATABASE[0]
    key = (host, identity, limits, database_url)
    with _SHARED_LOCK:
        budget = _SHARED.get(key)
        if budget is None:
            if database_url is None:
                budget = RequestBudget(limits)
            else:
                budget = PostgresBudget(host, identity, limits, database_url)
            _SHARED[key] = budget
        return budget


def least_loaded(budgets: Sequence[Budget]) -> int:
    """The index of the budget a new connector should talk as: not paused (a paused one only
    when all are), then with the fewest connectors seated on it, then with the most requests
    to spare now (the first of equals). Raises ``ValueError`` when empty."""
    if not budgets:
        raise ValueError("least_loaded needs at least one budget")
    load = []
    for budget in budgets:
        spare = budget.spare()
        load.append((spare == 0, budget.seats(), -spare))
    return load.index(min(load))


def place(budgets: Sequence[Budget]) -> int:
    """:func:`least_loaded`'s choice, with a seat taken on it at once (give it back with
    ``leave_seat`` when the connector closes), so that connectors opening together spread
    over the pool. The choice and the seat are one step: in this process under a lock, across
    processes (PostgreSQL budgets) under an advisory lock of their database."""
    if not budgets:
        raise ValueError("place needs at least one budget")
    with _PLACE_LOCK:
        lead = budgets[0]
        if len(budgets) > 1 and all(isinstance(b, PostgresBudget) for b in budgets):
            assert isinstance(lead, PostgresBudget)
            return lead.under_placement_lock(lambda: _seat(budgets))
        return _seat(budgets)


def _seat(budgets: Sequence[Budget]) -> int:
    chosen = least_loaded(budgets) if len(budgets) > 1 else 0
    budgets[chosen].take_seat()
    return chosen


_PLACE_LOCK = threading.Lock()
