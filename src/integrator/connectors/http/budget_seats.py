"""Who talks as an identity: the *seats* of the connectors open on each budget.

A pool of identities spreads connectors by what each identity has to spare. Spare requests
alone cannot tell apart two identities nobody has used yet, so two connectors opening at the
same moment would both pick the first. A connector therefore takes a seat on the identity it
picks, and picks the identity with the fewest seats (then the most to spare). Across processes
the seats live in PostgreSQL (``integrator_budget_seat``: one row per process and identity,
its count of open connectors, and an expiry the budget's heartbeat pushes forward, so a killed
process's seats are freed once it expires); the choice and the seat are taken under one
advisory lock, so of two processes placing at once the second sees the first's seat.
"""

from __future__ import annotations

from typing import Any

import psycopg

__all__ = ["PLACEMENT_LOCK", "live_seats", "put_seats"]

#: advisory lock key under which a connector picks its identity and takes its seat
PLACEMENT_LOCK = 0x1B0D6E8


def put_seats(
    connection: psycopg.Connection[Any],
    key: tuple[str, str, str],
    seats: int,
    expires_at: float,
) -> None:
    """Record ``seats`` open connectors of holder ``key`` = (host, identity, holder), until
    ``expires_at`` (``seats`` 0: the row goes)."""
    if seats <= 0:
        connection.execute(
            "DELETE FROM integrator_budget_seat WHERE host = %s AND identity = %s AND holder = %s",
            key,
        )
        return
    connection.execute(
        "INSERT INTO integrator_budget_seat (host, identity, holder, seats, expires_at)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (host, identity, holder)"
        " DO UPDATE SET seats = EXCLUDED.seats, expires_at = EXCLUDED.expires_at",
        (*key, seats, expires_at),
    )


def live_seats(connection: psycopg.Connection[Any], host: str, identity: str, now: float) -> int:
    """Open connectors on (``host``, ``identity``) in every process whose seat has not
    expired."""
    row = connection.execute(
        "SELECT coalesce(sum(seats), 0) FROM integrator_budget_seat"
        " WHERE host = %s AND identity = %s AND expires_at >= %s",
        (host, identity, now),
    ).fetchone()
    return 0 if row is None else int(row[0])
