"""A request budget kept in PostgreSQL, shared by every process that talks as one identity to
one host (workers on several machines sharing the workspace's history database).

It has :class:`~integrator.connectors.http.budget.RequestBudget`'s interface (``slot()``,
``pause()``, ``waited_seconds``, ``limits``), so the HTTP client uses either unchanged. Its
state is coordination state, not history: three tables in the history database, created on
first use with ``CREATE TABLE IF NOT EXISTS`` under an advisory lock (no Alembic migration;
they may be dropped whenever no worker runs, and are rebuilt empty):

- ``integrator_budget``: one row per ``(host, identity)`` with ``paused_until``, set by any
  process's 429 ``Retry-After`` and honoured by all; its row lock serializes the others';
- ``integrator_budget_window``: requests per time bucket (:mod:`.budget_window`: the count
  never falls below the requests really sent in the sliding window);
- ``integrator_budget_lease``: request slots in flight per process, with an expiry a
  heartbeat thread pushes forward while the process holds any; a process killed mid-request
  stops renewing, and its slots are free again once the lease expires.

A busy process does not do a round trip per request: it reserves tokens in chunks (used before
their bucket ends, the unused ones handed back after), keeps a slot for its next request
(given back by the heartbeat after ``linger_seconds`` unused), and otherwise looks at the
shared state (a pause) at most every ``refresh_seconds``. A request is counted from its
admission until a window after its end (the server counts it somewhere in between): one that
ends in a later bucket than it started in is moved there when it ends, one more round trip for
a share ``latency / bucket width`` of requests (a request longer than the whole window may go
uncounted for a while).

Times are each process's ``time.time()``: machines sharing a budget need their clocks in sync
(NTP); a skew of ``s`` seconds shifts the window by ``s``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg

from integrator.connectors.http.budget_limits import BudgetLimits
from integrator.connectors.http.budget_seats import PLACEMENT_LOCK, live_seats, put_seats
from integrator.connectors.http.budget_window import BucketWindow
from integrator.connectors.http.pg_budget_session import BudgetSession
from integrator.connectors.http.pg_budget_tables import libpq_url
from integrator.errors import SystemUnreachable

__all__ = ["PostgresBudget"]

T = TypeVar("T")


@dataclass(frozen=True)
class _Grant:
    tokens: int
    bucket: int
    slots: int
    paused_until: float
    #: seconds to wait before asking again when no token was granted (window full)
    window_wait: float
    #: the time the grant was made at (after the wait for the budget's row lock)
    now: float


class PostgresBudget:
    """Admits a request when the shared window, the shared concurrency cap and the shared
    pause of ``(host, identity)`` all allow it. Thread-safe; one connection per budget."""

    def __init__(
        self,
        host: str,
        identity: str,
        limits: BudgetLimits,
        database_url: str,
        *,
        buckets: int = 30,
        chunk: int | None = None,
        lease_seconds: float = 30.0,
        refresh_seconds: float = 0.5,
        poll_seconds: float = 0.05,
        linger_seconds: float = 0.2,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        heartbeat: bool = True,
        reconnect_seconds: float = 30.0,
    ) -> None:
        if limits.max_requests < 1 or limits.max_concurrent < 1 or limits.window_seconds <= 0:
            raise ValueError(f"request budget limits must be positive: {limits}")
        self.limits = limits
        self.host = host
        self.identity = identity
        self.window = BucketWindow(limits.window_seconds, buckets)
        #: tokens reserved per round trip: a small share of the window, so that one process
        #: cannot starve the others of more than a chunk
        self.chunk = chunk or max(1, min(50, limits.max_requests // 100))
        self.lease_seconds = lease_seconds
        self.refresh_seconds = refresh_seconds
        self.poll_seconds = poll_seconds
        self.linger_seconds = linger_seconds
        self.reconnect_seconds = reconnect_seconds
        self._idle_since = 0.0
        self._clock = clock
        self._sleep = sleep
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.waited_seconds = 0.0
        self._lock = threading.RLock()
        self._session = BudgetSession(
            libpq_url(database_url),
            host,
            identity,
            lock=self._lock,
            clock=clock,
            sleep=sleep,
            poll_seconds=poll_seconds,
            reconnect_seconds=reconnect_seconds,
        )
        self._run = self._session.run
        self._tokens = 0
        self._token_bucket = 0
        self._held = 0
        self._busy = 0
        self._seats = 0
        self._waiting = 0
        self._paused_until = 0.0
        self._synced_at = -float("inf")
        self._closed = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._use_heartbeat = heartbeat

    def __repr__(self) -> str:
        return f"PostgresBudget({self.host!r}, {self.identity!r}, {self.limits})"

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one request slot for the duration of the block (blocks until the shared window,
        concurrency cap and pause allow a request)."""
        with self._lock:
            self._waiting += 1
        try:
            bucket = self._acquire()
        finally:
            with self._lock:
                self._waiting -= 1
        try:
            yield
        finally:
            self._release(bucket)

    def pause(self, seconds: float) -> None:
        """Hold back every request on this identity and host, in every process, for
        ``seconds`` (a 429's ``Retry-After``)."""
        with self._lock:
            until = self._clock() + seconds
            self._paused_until = max(self._paused_until, until)
            self._run(
                lambda c: c.execute(
                    "UPDATE integrator_budget SET paused_until = greatest(paused_until, %s)"
                    " WHERE host = %s AND identity = %s",
                    (until, self.host, self.identity),
                )
            )

    def spare(self) -> int:
        """Requests the shared window has room for now, this process's unused tokens included
        (0 while paused): one round trip."""
        with self._lock:
            now = self._clock()
            room: int = self._run(lambda c: self._room(c, now))
            return room + self._tokens if now >= self._paused_until else 0

    def _room(self, connection: psycopg.Connection[Any], now: float) -> int:
        key = (self.host, self.identity)
        row = connection.execute(
            "SELECT paused_until FROM integrator_budget WHERE host = %s AND identity = %s", key
        ).fetchone()
        assert row is not None
        self._paused_until = max(self._paused_until, float(row[0]))
        counts = {
            int(bucket): int(used)
            for bucket, used in connection.execute(
                "SELECT bucket, used FROM integrator_budget_window"
                " WHERE host = %s AND identity = %s AND bucket >= %s",
                (*key, self.window.oldest_counted(now)),
            )
        }
        return self.window.room(now, counts, self.limits.max_requests)

    def seats(self) -> int:
        """Connectors open on this identity in every process (see :mod:`.budget_seats`)."""
        with self._lock:
            now = self._clock()
            found: int = self._run(lambda c: live_seats(c, self.host, self.identity, now))
            return found

    def take_seat(self) -> None:
        """One more connector of this process talks as this identity (until
        :meth:`leave_seat`); its seat is kept alive by the heartbeat."""
        with self._lock:
            self._seats += 1
            self._run(self._put_seats)
            self._ensure_heartbeat()

    def leave_seat(self) -> None:
        """A connector that took a seat is closed."""
        with self._lock:
            if self._seats == 0:
                return
            self._seats -= 1
            if self._session.connected or self._seats:
                with contextlib.suppress(psycopg.Error):
                    self._run(self._put_seats, patient=False)  # else it expires on its own

    def under_placement_lock(self, choose: Callable[[], T]) -> T:
        """``choose()`` while holding the placement lock of this budget's database (every
        process placing connectors on a pool waits its turn; see :mod:`.budget_seats`)."""

        def locked(connection: psycopg.Connection[Any]) -> T:
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (PLACEMENT_LOCK,))
            return choose()

        with self._lock:
            chosen: T = self._run(locked)
            return chosen

    def _put_seats(self, connection: psycopg.Connection[Any]) -> None:
        key = (self.host, self.identity, self.holder)
        put_seats(connection, key, self._seats, self._clock() + self.lease_seconds)

    def close(self) -> None:
        """Give back held slots and unused tokens, stop the heartbeat, close the connection."""
        self._closed.set()
        with self._lock:
            if not self._session.connected:
                return
            self._held = self._busy
            self._seats = 0
            with contextlib.suppress(psycopg.Error):  # else the lease expires on its own
                self._sync(
                    self._clock(), want_slot=False, want_tokens=0, keep_tokens=False, patient=False
                )
                self._run(self._put_seats, patient=False)
            self._session.close()

    def _acquire(self) -> int:
        """Wait for a slot and a token; the bucket the token counts in."""
        while True:
            with self._lock:
                now = self._clock()
                if self._tokens and now >= self.window.expiry(self._token_bucket):
                    self._synced_at = -float("inf")  # hand the stale tokens back
                fresh = now - self._synced_at < self.refresh_seconds
                if fresh and now < self._paused_until:
                    wait = self._paused_until - now
                elif fresh and self._can_take():
                    return self._take()
                else:
                    wait = self._ask(now)
                    if wait <= 0:
                        return self._take()
                self.waited_seconds += wait
            self._sleep(wait)

    def _can_take(self) -> bool:
        return self._busy < self._held and self._tokens > 0

    def _take(self) -> int:
        self._busy += 1
        self._tokens -= 1
        self._ensure_heartbeat()
        return self._token_bucket

    def _ask(self, now: float) -> float:
        """One round trip: the slot and tokens this process lacks; the wait, 0 when it can go."""
        grant = self._sync(
            now,
            want_slot=self._busy >= self._held,
            want_tokens=self.chunk if self._tokens == 0 else 0,
            keep_tokens=True,
        )
        if grant.now < grant.paused_until:
            return grant.paused_until - grant.now
        if self._tokens == 0:
            return grant.window_wait
        if self._busy >= self._held:
            return self.poll_seconds
        return 0.0

    def _release(self, bucket: int) -> None:
        """Give the slot back (to PostgreSQL unless a thread here waits for one); a request that
        ended in a later bucket than its token's moves there: the server may have counted it
        as late as its end, so it must count here until a window after that."""
        with self._lock:
            self._busy -= 1
            now = self._clock()
            ended = self.window.bucket_of(now)
            shrink = self._waiting == 0 and self._held > self._busy
            if shrink and self._use_heartbeat:
                # kept for ``linger_seconds`` for this process's next request; the heartbeat
                # gives it back if none comes
                shrink, self._idle_since = False, now
            if ended != bucket or shrink:
                self._run(lambda c: self._settle(c, bucket, ended, shrink))

    def _settle(
        self, connection: psycopg.Connection[Any], bucket: int, ended: int, shrink: bool
    ) -> None:
        key = (self.host, self.identity)
        if ended != bucket:
            connection.execute(
                "UPDATE integrator_budget_window SET used = greatest(used - 1, 0)"
                " WHERE host = %s AND identity = %s AND bucket = %s",
                (*key, bucket),
            )
            connection.execute(
                "INSERT INTO integrator_budget_window (host, identity, bucket, used)"
                " VALUES (%s, %s, %s, 1) ON CONFLICT (host, identity, bucket)"
                " DO UPDATE SET used = integrator_budget_window.used + 1",
                (*key, ended),
            )
        if shrink:
            self._set_lease(connection, self._busy, self._clock())
            self._held = self._busy

    def _set_lease(self, connection: psycopg.Connection[Any], slots: int, now: float) -> None:
        key = (self.host, self.identity, self.holder)
        if slots == 0:
            connection.execute(
                "DELETE FROM integrator_budget_lease"
                " WHERE host = %s AND identity = %s AND holder = %s",
                key,
            )
            return
        connection.execute(
            "INSERT INTO integrator_budget_lease (host, identity, holder, slots, expires_at)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (host, identity, holder)"
            " DO UPDATE SET slots = EXCLUDED.slots, expires_at = EXCLUDED.expires_at",
            (*key, slots, now + self.lease_seconds),
        )

    def _sync(
        self,
        now: float,
        *,
        want_slot: bool,
        want_tokens: int,
        keep_tokens: bool,
        patient: bool = True,
    ) -> _Grant:
        grant: _Grant = self._run(
            lambda c: self._exchange(c, now, want_slot, want_tokens, keep_tokens),
            patient=patient,
        )
        self._synced_at = grant.now
        self._paused_until = max(self._paused_until, grant.paused_until)
        self._held += grant.slots
        if grant.tokens:
            self._tokens, self._token_bucket = grant.tokens, grant.bucket
        return grant

    def _exchange(
        self,
        connection: psycopg.Connection[Any],
        now: float,
        want_slot: bool,
        want_tokens: int,
        keep_tokens: bool,
    ) -> _Grant:
        key = (self.host, self.identity)
        row = connection.execute(
            "SELECT paused_until FROM integrator_budget WHERE host = %s AND identity = %s"
            " FOR UPDATE",
            key,
        ).fetchone()
        assert row is not None
        paused_until = float(row[0])
        # the row lock may have been waited for: tokens count in the bucket of their grant
        now = max(now, self._clock())
        stale = now >= self.window.expiry(self._token_bucket)
        if self._tokens and (stale or not keep_tokens):
            # reserved, never sent: they leave the bucket they were counted in
            connection.execute(
                "UPDATE integrator_budget_window SET used = greatest(used - %s, 0)"
                " WHERE host = %s AND identity = %s AND bucket = %s",
                (self._tokens, *key, self._token_bucket),
            )
            self._tokens = 0
            want_tokens = want_tokens or (self.chunk if keep_tokens else 0)
        connection.execute(
            "DELETE FROM integrator_budget_window"
            " WHERE host = %s AND identity = %s AND bucket < %s",
            (*key, self.window.oldest_counted(now)),
        )
        counts = {
            int(bucket): int(used)
            for bucket, used in connection.execute(
                "SELECT bucket, used FROM integrator_budget_window"
                " WHERE host = %s AND identity = %s",
                key,
            )
        }
        tokens = bucket = 0
        if want_tokens and now >= paused_until:
            tokens = min(want_tokens, self.window.room(now, counts, self.limits.max_requests))
            bucket = self.window.bucket_of(now)
            if tokens:
                connection.execute(
                    "INSERT INTO integrator_budget_window (host, identity, bucket, used)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (host, identity, bucket)"
                    " DO UPDATE SET used = integrator_budget_window.used + EXCLUDED.used",
                    (*key, bucket, tokens),
                )
        connection.execute(
            "DELETE FROM integrator_budget_lease"
            " WHERE host = %s AND identity = %s AND expires_at < %s AND holder <> %s",
            (*key, now, self.holder),
        )
        others = connection.execute(
            "SELECT coalesce(sum(slots), 0) FROM integrator_budget_lease"
            " WHERE host = %s AND identity = %s AND holder <> %s",
            (*key, self.holder),
        ).fetchone()
        assert others is not None
        slots = int(want_slot and int(others[0]) + self._held < self.limits.max_concurrent)
        self._set_lease(connection, self._held + slots, now)
        wait = 0.0 if tokens or not want_tokens else self.window.wait_for_room(now, counts)
        return _Grant(tokens, bucket, slots, paused_until, wait, now)

    def _ensure_heartbeat(self) -> None:
        if self._use_heartbeat and self._heartbeat is None:
            self._heartbeat = threading.Thread(
                target=self._beat, name=f"budget-lease {self.identity}", daemon=True
            )
            self._heartbeat.start()

    def _beat(self) -> None:
        """Push the lease's expiry forward while this process holds slots; give back the slots
        no request here has used for ``linger_seconds``."""
        renewed = seated = self._clock()
        while not self._closed.wait(min(self.lease_seconds / 3, self.linger_seconds)):
            with self._lock:
                now = self._clock()
                if self._seats and now - seated >= self.lease_seconds / 3:
                    try:
                        self._run(self._put_seats)
                        seated = now
                    except (psycopg.Error, SystemUnreachable):
                        pass  # tried again next beat, as the lease is
                idle = self._held > self._busy and self._waiting == 0
                if idle and now - self._idle_since >= self.linger_seconds:
                    slots = self._busy
                elif self._held and now - renewed >= self.lease_seconds / 3:
                    slots = self._held
                else:
                    continue
                try:
                    self._run(functools.partial(self._set_lease, slots=slots, now=now))
                except psycopg.Error:
                    continue  # tried again next beat; the lease outlives two missed beats
                self._held, renewed = slots, now
