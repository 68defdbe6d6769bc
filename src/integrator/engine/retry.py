"""When a failed record is tried again (SPEC §7, "Failed records"), as pure functions.

A *transient* failure (429, 5xx, timeout, lock, connection) is retried by every run. A failure
on the record's *data* (a rule, a missing reference, a mapping error) is retried when the
source record changes (the incremental read brings it), when the task's mapping changes, on
Re-run or ``--retry-failed``, and otherwise after a backoff: an hour after the first failure,
then doubling, at most a day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from integrator.engine.history import RecordFailure, RecordState
from integrator.engine.history.clock import iso

__all__ = ["BACKOFF_FIRST", "BACKOFF_LONGEST", "backoff", "due", "due_at", "failed_again"]

BACKOFF_FIRST = timedelta(hours=1)
BACKOFF_LONGEST = timedelta(days=1)


def backoff(attempts: int) -> timedelta:
    """How long a data failure waits after failing ``attempts`` runs in a row: one hour, two,
    four, … and never more than a day."""
    if attempts >= 6:  # 2**5 hours is past a day already
        return BACKOFF_LONGEST
    return min(BACKOFF_FIRST * (1 << max(attempts - 1, 0)), BACKOFF_LONGEST)


def failed_again(
    prior: RecordFailure | None,
    signature: Sequence[Sequence[str | None]],
    *,
    transient: bool,
    run_id: int,
    now: datetime,
) -> tuple[RecordFailure, bool]:
    """The failure to remember for a record that failed with ``signature`` (its errors'
    ``[leg, field, message]``) in run ``run_id``, and whether it failed the same way as
    ``prior`` (then it is *still failing*, not a new error)."""
    shape = sorted([list(item) for item in signature], key=lambda item: [str(v) for v in item])
    same = prior is not None and prior.signature == shape
    attempts = prior.attempts + 1 if same and prior is not None else 1
    since = prior.since_run if same and prior is not None else run_id
    retry_at = None if transient else iso(now + backoff(attempts))
    failure = RecordFailure(
        kind="transient" if transient else "data",
        signature=shape,
        since_run=since,
        last_run=run_id,
        attempts=attempts,
        retry_at=retry_at,
    )
    return failure, same


def due(state: RecordState, now: datetime, *, mapping_changed: bool, retry_failed: bool) -> bool:
    """Whether a pending record is retried by this run even though the read did not bring
    it: always when its failure is transient or unknown (written ahead of a lost commit, an
    unfinished removal), when asked, when the mapping changed, or once its backoff is over."""
    failure = state.failure
    if failure is None or failure.kind == "transient":
        return True
    cutoff = due_at(now, mapping_changed=mapping_changed, retry_failed=retry_failed)
    return cutoff is None or failure.retry_at is None or failure.retry_at <= cutoff


def due_at(now: datetime, *, mapping_changed: bool, retry_failed: bool) -> str | None:
    """The time (ISO) a pending record's ``retry_at`` must not be after for this run to retry
    it, or ``None`` when every pending record is retried (asked, or the mapping changed). A
    state without ``retry_at`` (transient, or written ahead of a lost commit) is always due."""
    return None if retry_failed or mapping_changed else iso(now)
