"""Claims on a task's partitions: PostgreSQL session advisory locks, one per partition.

A claim is taken with ``pg_try_advisory_lock`` on a connection of its own, held while the
partition runs. PostgreSQL frees a session lock when its connection ends, so a worker that is
killed mid-partition frees its claim with it: the partition becomes claimable again and is
resumed from its last committed page by whoever claims it next.
"""

from __future__ import annotations

import hashlib
from types import TracebackType

import psycopg

__all__ = ["PartitionClaim", "claim_keys", "try_claim"]


def claim_keys(project: str, task: str, number: int) -> tuple[int, int]:
    """The two int4 keys of partition ``number`` of ``project``'s ``task``: a stable hash
    (the same in every process and on every machine, unlike Python's ``hash``)."""
    digest = hashlib.blake2b(f"{project}\0{task}\0{number}".encode(), digest_size=8).digest()
    return (
        int.from_bytes(digest[:4], "big", signed=True),
        int.from_bytes(digest[4:], "big", signed=True),
    )


class PartitionClaim:
    """A granted claim (see the module); :meth:`release` it, or use it with ``with``."""

    def __init__(self, connection: psycopg.Connection[tuple[object, ...]], keys: tuple[int, int]):
        self._connection: psycopg.Connection[tuple[object, ...]] | None = connection
        self.keys = keys

    @property
    def held(self) -> bool:
        """Whether the claim is still held (not released)."""
        return self._connection is not None

    def release(self) -> None:
        """Free the claim (closing its connection frees it even when the unlock fails)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute("SELECT pg_advisory_unlock(%s, %s)", self.keys)
        except psycopg.Error:
            pass  # the connection is gone: so is its lock
        finally:
            connection.close()

    def __enter__(self) -> PartitionClaim:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def try_claim(conninfo: str, project: str, task: str, number: int) -> PartitionClaim | None:
    """Claim partition ``number`` of ``project``'s ``task`` on the PostgreSQL database at
    ``conninfo`` (libpq): the claim when granted, ``None`` when another session holds it.
    Raises :class:`psycopg.OperationalError` when the database cannot be reached."""
    keys = claim_keys(project, task, number)
    connection = psycopg.connect(conninfo, autocommit=True)
    try:
        row = connection.execute("SELECT pg_try_advisory_lock(%s, %s)", keys).fetchone()
    except BaseException:
        connection.close()
        raise
    if row is None or not row[0]:
        connection.close()
        return None
    return PartitionClaim(connection, keys)
