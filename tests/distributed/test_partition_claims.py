"""Claims on a task's partitions (PostgreSQL session advisory locks): a second session is
refused one that is held, and gets it once the first releases it or its connection ends (a
worker killed mid-partition)."""

from __future__ import annotations

import psycopg
import pytest

from integrator.distributed.claims import claim_keys, try_claim
from integrator.distributed.conninfo import libpq_conninfo
from tests.connectors.databases import POSTGRES_URL, postgres_missing


@pytest.fixture
def conninfo() -> str:
    missing = postgres_missing()
    if missing is not None:
        pytest.skip(missing)
    return libpq_conninfo(POSTGRES_URL)


def test_a_claimed_partition_is_refused_to_another_session_until_released(
    conninfo: str,
) -> None:
    first = try_claim(conninfo, "claims-project", "task", 0)
    assert first is not None
    try:
        assert try_claim(conninfo, "claims-project", "task", 0) is None
        other = try_claim(conninfo, "claims-project", "task", 1)  # another partition: free
        assert other is not None
        other.release()
    finally:
        first.release()
    again = try_claim(conninfo, "claims-project", "task", 0)
    assert again is not None
    again.release()


def test_a_claim_is_freed_when_its_holders_connection_ends(conninfo: str) -> None:
    # a worker killed mid-partition: its session ends without unlocking
    holder = psycopg.connect(conninfo, autocommit=True)
    keys = claim_keys("claims-project", "dies", 3)
    assert holder.execute("SELECT pg_try_advisory_lock(%s, %s)", keys).fetchone() == (True,)
    assert try_claim(conninfo, "claims-project", "dies", 3) is None
    holder.close()
    claim = try_claim(conninfo, "claims-project", "dies", 3)
    assert claim is not None
    claim.release()


def test_claim_keys_are_stable_and_tell_partitions_apart() -> None:
    keys = {claim_keys("p", "t", number) for number in range(1000)}
    assert len(keys) == 1000
    assert claim_keys("p", "t", 7) == claim_keys("p", "t", 7)
    assert all(-(2**31) <= key < 2**31 for pair in keys for key in pair)
