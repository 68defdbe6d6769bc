"""The one PostgreSQL connection of a shared request budget, and its transactions: opened on
first use (creating the budget tables and the identity's row), opened again after a server
restart, each transaction tried again meanwhile for up to ``reconnect_seconds``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from integrator.connectors.http.pg_budget_tables import budget_tables
from integrator.errors import SystemUnreachable

__all__ = ["BudgetSession"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class BudgetSession:
    """Transactions on the budget database for (``host``, ``identity``), under ``lock``."""

    def __init__(
        self,
        url: str,
        host: str,
        identity: str,
        *,
        lock: threading.RLock,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        poll_seconds: float,
        reconnect_seconds: float,
    ) -> None:
        self.url = url
        self.host = host
        self.identity = identity
        self.poll_seconds = poll_seconds
        self.reconnect_seconds = reconnect_seconds
        self._lock = lock
        self._clock = clock
        self._sleep = sleep
        self._connection: psycopg.Connection[Any] | None = None

    @property
    def connected(self) -> bool:
        """Whether a connection is open now."""
        return self._connection is not None

    def run(self, work: Callable[[psycopg.Connection[Any]], T], *, patient: bool = True) -> T:
        """``work`` in one transaction. A lost connection (a server restart) is opened again
        and ``work`` tried again, waiting longer each time, for up to ``reconnect_seconds``:
        requests wait meanwhile, since no process can count them. Then raises
        :class:`SystemUnreachable`. Not ``patient``: one attempt, its ``psycopg.Error``
        raised (for what may be left to expire, such as a closing budget's lease)."""
        with self._lock:
            started = self._clock()
            pause = self.poll_seconds
            while True:
                try:
                    connection = self._connect()
                    with connection.transaction():
                        return work(connection)
                except psycopg.OperationalError as error:
                    self._drop()
                    if not patient:
                        raise
                    if self._clock() - started >= self.reconnect_seconds:
                        raise SystemUnreachable(
                            f"the shared request budget of {self.identity} on {self.host} "
                            f"is kept in PostgreSQL, which could not be reached for "
                            f"{self.reconnect_seconds:g} s: {str(error).strip().splitlines()[0]}",
                            system="the shared request budget's database",
                        ) from None
                    if pause > self.poll_seconds:
                        log.warning("the shared request budget's database: %s", error)
                    self._sleep(pause)
                    pause = min(pause * 4, 2.0)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None

    def _connect(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            connection = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            budget_tables(connection)
            connection.execute(
                "INSERT INTO integrator_budget (host, identity) VALUES (%s, %s)"
                " ON CONFLICT DO NOTHING",
                (self.host, self.identity),
            )
            self._connection = connection
        return self._connection
