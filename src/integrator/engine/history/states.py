"""The record-state store: what each source record of a task became, the checkpoint each task
goes on from, and the fingerprint of each task's mapping."""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from integrator.engine.history.clock import now_iso
from integrator.engine.history.models import RecordFailure, RecordState
from integrator.engine.history.pgstates import delete_states, select_states, upsert_states
from integrator.engine.history.tables import checkpoints, record_state, task_mappings

__all__ = ["MappingMark", "RecordStateStore", "Waiting"]


@dataclass(frozen=True)
class MappingMark:
    """A task's mapping fingerprint as last run, and as last run with a full read."""

    fingerprint: str
    run_id: int | None
    full_read_fingerprint: str | None
    full_read_run_id: int | None


@dataclass(frozen=True)
class Waiting:
    """Records of a task that failed and were not tried again: how many, since which run."""

    records: int
    since_run: int | None
    next_retry_at: str | None


class RecordStateStore:
    """Read and write record states, checkpoints and mapping fingerprints."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- checkpoints ---------------------------------------------------------------------------

    def put_checkpoint(
        self, conn: sa.Connection, run_id: int, project: str, task: str, value: str
    ) -> None:
        """Move a task's checkpoint, on the caller's transaction."""
        where = sa.and_(checkpoints.c.project == project, checkpoints.c.task == task)
        values = {"checkpoint": value, "run_id": run_id, "updated_at": now_iso()}
        if conn.execute(checkpoints.update().where(where).values(**values)).rowcount == 0:
            conn.execute(checkpoints.insert().values(project=project, task=task, **values))

    def checkpoint(self, project: str, task: str) -> str | None:
        """The checkpoint stored for ``project``'s ``task``, or ``None``."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(checkpoints.c.checkpoint).where(
                    checkpoints.c.project == project, checkpoints.c.task == task
                )
            ).scalar_one_or_none()

    def clear_checkpoints(self, project: str) -> None:
        """Forget ``project``'s checkpoints (the next run reads everything)."""
        with self.engine.begin() as conn:
            conn.execute(checkpoints.delete().where(checkpoints.c.project == project))

    # -- record states -------------------------------------------------------------------------

    def put_states(
        self,
        conn: sa.Connection,
        project: str,
        task: str,
        changed: Sequence[RecordState],
        forget: Sequence[str],
    ) -> None:
        """Save changed states and forget others, on the caller's transaction."""
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            if forget:
                delete_states(conn, project, task, forget)
        else:
            for chunk in _chunks(list(forget)):
                conn.execute(
                    record_state.delete().where(
                        record_state.c.project == project,
                        record_state.c.task == task,
                        record_state.c.source_id.in_(chunk),
                    )
                )
        if not changed:
            return
        rows = [
            (
                project,
                task,
                state.source_id,
                state.record_key,
                _encode_sorted(state.leg_keys),
                state.pending,
                _failure_text(state.failure),
                state.failure.retry_at if state.failure is not None else None,
            )
            for state in changed
        ]
        if postgres:
            upsert_states(conn, rows)
            return
        # tuples straight to the driver: SQLAlchemy's per-row parameter processing costs more
        # than the insert
        conn.exec_driver_sql(_sqlite_upsert(conn), rows)

    def save_states(self, project: str, task: str, states: Sequence[RecordState]) -> None:
        """Save ``states`` in a transaction of their own (the write-ahead of a page's keys)."""
        with self.engine.begin() as conn:
            self.put_states(conn, project, task, states, [])

    def states(self, project: str, task: str, source_ids: Sequence[str]) -> dict[str, RecordState]:
        """The stored states of ``source_ids`` (those that have one), by source id."""
        found: dict[str, RecordState] = {}
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                for row in select_states(conn, project, task, source_ids):
                    found[row[0]] = _decoded(*row)
                return found
            for chunk in _chunks(list(source_ids)):
                query = sa.select(record_state).where(
                    record_state.c.project == project,
                    record_state.c.task == task,
                    record_state.c.source_id.in_(chunk),
                )
                for row in conn.execute(query).mappings():
                    found[row["source_id"]] = _state(row)
        return found

    def state_id_pages(self, project: str, task: str, size: int = 10_000) -> Iterator[list[str]]:
        """The source ids of every record of ``project``'s ``task`` that has a state, ``size``
        at a time in source-id order (each page its own short query, keyset-paged), so a task
        of millions of records is never held in memory at once."""
        where = [record_state.c.project == project, record_state.c.task == task]
        last: str | None = None
        while True:
            query = sa.select(record_state.c.source_id).where(*where)
            if last is not None:
                query = query.where(record_state.c.source_id > last)
            with self.engine.connect() as conn:
                page = [row[0] for row in conn.execute(query.order_by("source_id").limit(size))]
            if page:
                yield page
            if len(page) < size:
                return
            last = page[-1]

    def pending_ids(self, project: str, task: str, due_at: str | None) -> list[str]:
        """The source ids of the task's records pending a retry (failed, or written ahead of a
        lost commit) that are due: with ``due_at`` (an ISO time, see
        :func:`integrator.engine.retry.due_at`) those waiting for no time or for a time not
        after it, else every one. Asked of the database: no state is decoded."""
        query = sa.select(record_state.c.source_id).where(
            record_state.c.project == project,
            record_state.c.task == task,
            record_state.c.pending.is_(True),
        )
        if due_at is not None:
            query = query.where(
                sa.or_(record_state.c.retry_at.is_(None), record_state.c.retry_at <= due_at)
            )
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(query)]

    def pending_states(self, project: str, task: str) -> list[RecordState]:
        """The task's records pending a retry (failed, or written ahead of a lost commit)."""
        query = sa.select(record_state).where(
            record_state.c.project == project,
            record_state.c.task == task,
            record_state.c.pending.is_(True),
        )
        with self.engine.connect() as conn:
            return [_state(row) for row in conn.execute(query).mappings()]

    def waiting(self, project: str, task: str, run_id: int) -> Waiting:
        """The task's failed records that run ``run_id`` did not try again."""
        query = sa.select(record_state.c.failure).where(
            record_state.c.project == project,
            record_state.c.task == task,
            record_state.c.pending.is_(True),
            record_state.c.failure.is_not(None),
        )
        count = 0
        since: int | None = None
        due: str | None = None
        with self.engine.connect() as conn:
            failures = [_failure(row[0]) for row in conn.execute(query)]
        for failure in failures:
            if failure is None or failure.last_run >= run_id:
                continue
            count += 1
            since = failure.since_run if since is None else min(since, failure.since_run)
            if failure.retry_at is not None and (due is None or failure.retry_at < due):
                due = failure.retry_at
        return Waiting(count, since, due)

    def forget_states(self, project: str) -> None:
        """Forget every record state of ``project``."""
        with self.engine.begin() as conn:
            conn.execute(record_state.delete().where(record_state.c.project == project))

    # -- mapping fingerprints ------------------------------------------------------------------

    def mapping_mark(self, project: str, task: str) -> MappingMark | None:
        """The task's stored mapping fingerprints, or ``None`` before its first run."""
        query = sa.select(task_mappings).where(
            task_mappings.c.project == project, task_mappings.c.task == task
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return MappingMark(
            row["fingerprint"], row["run_id"], row["full_read_fingerprint"], row["full_read_run_id"]
        )

    def put_mapping_mark(self, project: str, task: str, mark: MappingMark) -> None:
        """Store the task's mapping fingerprints."""
        values = {
            "fingerprint": mark.fingerprint,
            "run_id": mark.run_id,
            "full_read_fingerprint": mark.full_read_fingerprint,
            "full_read_run_id": mark.full_read_run_id,
        }
        where = sa.and_(task_mappings.c.project == project, task_mappings.c.task == task)
        with self.engine.begin() as conn:
            if conn.execute(task_mappings.update().where(where).values(**values)).rowcount == 0:
                conn.execute(task_mappings.insert().values(project=project, task=task, **values))


_STATE_COLUMNS = (
    "project",
    "task",
    "source_id",
    "record_key",
    "leg_keys",
    "pending",
    "failure",
    "retry_at",
)
#: ``json.dumps(value, sort_keys=True)`` without building an encoder per call
_encode_sorted = json.JSONEncoder(sort_keys=True).encode


def _upsert(conn: sa.Connection) -> Any:
    insert = sqlite_insert(record_state)
    return insert.on_conflict_do_update(
        index_elements=["project", "task", "source_id"],
        set_={
            "record_key": insert.excluded.record_key,
            "leg_keys": insert.excluded.leg_keys,
            "pending": insert.excluded.pending,
            "failure": insert.excluded.failure,
            "retry_at": insert.excluded.retry_at,
        },
    )


def _sqlite_upsert(conn: sa.Connection) -> str:
    """The upsert as the SQLite driver takes it: one ``?`` per column of :data:`_STATE_COLUMNS`,
    in that order (compiled by SQLAlchemy once per dialect)."""
    text = _SQLITE_UPSERTS.get(conn.dialect)
    if text is None:
        values: dict[str, Any] = {name: sa.bindparam(name) for name in _STATE_COLUMNS}
        compiled = _upsert(conn).values(values).compile(dialect=conn.dialect)
        if list(compiled.positiontup or ()) != list(_STATE_COLUMNS):
            raise RuntimeError(f"unexpected parameters in {compiled.string!r}")
        text = _SQLITE_UPSERTS[conn.dialect] = compiled.string
    return text


_SQLITE_UPSERTS: weakref.WeakKeyDictionary[sa.Dialect, str] = weakref.WeakKeyDictionary()


def _chunks(items: list[str], size: int = 900) -> list[list[str]]:
    # SQLite allows 999 bound parameters per statement in older builds
    return [items[i : i + size] for i in range(0, len(items), size)]


def _failure_text(failure: RecordFailure | None) -> str | None:
    return None if failure is None else _encode_sorted(asdict(failure))


def _failure(text: str | None) -> RecordFailure | None:
    if not text:
        return None
    data = json.loads(text)
    return RecordFailure(**data)


def _state(row: Any) -> RecordState:
    return _decoded(
        row["source_id"], row["record_key"], row["leg_keys"], row["pending"], row["failure"]
    )


def _decoded(
    source_id: str, record_key: str, leg_keys: str | None, pending: Any, failure: str | None
) -> RecordState:
    return RecordState(
        source_id=source_id,
        record_key=record_key,
        leg_keys=json.loads(leg_keys) if leg_keys else [],
        pending=bool(pending),
        failure=_failure(failure),
    )
