"""The schedule book: per scheduled project, its next slot and the slot waiting to run, in the
history database (SQLite or PostgreSQL), so that they survive restarts.

Several processes (two ``integrator serve`` on one workspace) may share one book. A slot is
claimed by a conditional UPDATE (``WHERE project = :p AND next_run_at = :old``): the one process
whose UPDATE changed a row owns the slots it moved past. The runs table's UNIQUE (project,
scheduled_for) index is the second guard: no slot gets two runs or Skipped entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from integrator.config.models import Schedule
from integrator.config.workspace import Workspace
from integrator.engine.history.clock import iso, now_iso, owner
from integrator.engine.history.models import EndReason, RunStatus
from integrator.engine.history.tables import runs, schedules
from integrator.schedule.recurrence import first_slot_after, slots_in

__all__ = ["ScheduleBook", "ScheduleRow", "schedule_spec"]

_TICK = timedelta(microseconds=1)


def schedule_spec(schedule: Schedule) -> str:
    """``schedule`` as canonical JSON: two equal schedules give the same text."""
    return json.dumps(schedule.model_dump(mode="json"), sort_keys=True)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class ScheduleRow:
    """One project's row of the book."""

    project: str
    #: the schedule as last seen in the project file (:func:`schedule_spec`)
    spec: str
    #: the start of a schedule without ``starting_at``: when the book first saw it
    anchor: datetime
    #: the next slot (``None``: past the schedule's end)
    next_run_at: datetime | None
    #: a claimed slot whose run has not started yet
    waiting_slot: datetime | None
    updated_at: str

    @property
    def schedule(self) -> Schedule:
        """The schedule this row was computed from."""
        return Schedule.model_validate(json.loads(self.spec))


def _stored(spec: str, anchor: datetime) -> str:
    # the anchor travels with the spec: an edit (a new spec) gets a new anchor
    return json.dumps({"schedule": json.loads(spec), "anchor": iso(anchor)}, sort_keys=True)


def _row(row: sa.RowMapping) -> ScheduleRow:
    stored = json.loads(row["spec"])
    return ScheduleRow(
        project=row["project"],
        spec=json.dumps(stored["schedule"], sort_keys=True),
        anchor=_parse(stored["anchor"]),
        next_run_at=_parse(row["next_run_at"]) if row["next_run_at"] else None,
        waiting_slot=_parse(row["waiting_slot"]) if row["waiting_slot"] else None,
        updated_at=row["updated_at"],
    )


class ScheduleBook:
    """The ``schedules`` table of a history database (pass ``HistoryStore.engine``)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- reading -------------------------------------------------------------------------------

    def rows(self) -> list[ScheduleRow]:
        """Every project's row, by project name."""
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(schedules).order_by(schedules.c.project)).mappings()
            return [_row(row) for row in found]

    def waiting(self) -> dict[str, str]:
        """Project → the slot (ISO-8601 UTC) claimed for it and waiting for its run to start."""
        query = sa.select(schedules.c.project, schedules.c.waiting_slot).where(
            schedules.c.waiting_slot.is_not(None)
        )
        with self.engine.connect() as conn:
            return {project: slot for project, slot in conn.execute(query)}

    # -- writing -------------------------------------------------------------------------------

    def sync(self, workspace: Workspace, now: datetime) -> None:
        """Make the book follow the workspace's project files at ``now``: a new schedule's next
        slot is the first at or after ``now``; an edited one is recomputed from ``now`` (a slot
        already waiting still waits); a project now run manually, or gone, loses its row."""
        wanted = {
            name: schedule_spec(project.schedule)
            for name, project in workspace.projects.items()
            if project.schedule is not None
        }
        # a project whose file does not load keeps its row: a typo does not drop its schedule
        kept = set(wanted) | (set(workspace.project_files) - set(workspace.projects))
        have = {row.project: row for row in self.rows()}
        stamp = iso(now)
        with self.engine.begin() as conn:
            for project in sorted(set(have) - kept):
                conn.execute(schedules.delete().where(schedules.c.project == project))
            for project, spec in sorted(wanted.items()):
                current = have.get(project)
                if current is not None and current.spec == spec:
                    continue
                schedule = Schedule.model_validate(json.loads(spec))
                anchor = _minute(now)
                nxt = first_slot_after(schedule, now - _TICK, anchor=anchor)
                values = {
                    "spec": _stored(spec, anchor),
                    "next_run_at": iso(nxt) if nxt else None,
                    "updated_at": stamp,
                }
                if current is None:
                    _insert_row(conn, {"project": project, **values})
                else:
                    conn.execute(
                        schedules.update()
                        .where(schedules.c.project == project)
                        .where(schedules.c.spec == _stored(current.spec, current.anchor))
                        .values(**values)
                    )

    def claim_due(self, now: datetime) -> None:
        """Claim every slot due at ``now``: move each due row's next slot past ``now``, make the
        latest due slot the waiting one, and record what cannot run as a Skipped entry (a slot
        that finds another already waiting; slots that passed while nothing was serving, folded
        into one entry). Each row is claimed by one process only."""
        for row in self.rows():
            if row.next_run_at is None or row.next_run_at > now:
                continue
            self._claim(row, now)

    def _claim(self, row: ScheduleRow, now: datetime) -> None:
        schedule, due = row.schedule, row.next_run_at
        assert due is not None
        count, first, last = slots_in(schedule, due - _TICK, now, anchor=row.anchor)
        nxt = first_slot_after(schedule, now, anchor=row.anchor)
        old_waiting = iso(row.waiting_slot) if row.waiting_slot else None
        # several slots due at once: nothing served for a while, so a slot that waited since
        # then is as stale as the ones that passed; the newest slot replaces it
        stale = old_waiting is not None and count > 1
        waiting = iso(last) if last is not None and (old_waiting is None or stale) else old_waiting
        with self.engine.begin() as conn:
            claimed = conn.execute(
                schedules.update()
                .where(schedules.c.project == row.project)
                .where(schedules.c.next_run_at == iso(due))
                .where(
                    schedules.c.waiting_slot.is_(None)
                    if old_waiting is None
                    else schedules.c.waiting_slot == old_waiting
                )
                .values(
                    next_run_at=iso(nxt) if nxt else None,
                    waiting_slot=waiting,
                    updated_at=iso(now),
                )
            )
            if claimed.rowcount != 1 or first is None or last is None:
                return
            if count > 1:
                _, _, before_last = slots_in(
                    schedule, first - _TICK, last - _TICK, anchor=row.anchor
                )
                assert before_last is not None
                missed = count - 1
                _insert_skipped(
                    conn,
                    row.project,
                    iso(first),
                    EndReason.SKIPPED_MISSED,
                    f"{missed} slot(s) from {iso(first)} to {iso(before_last)} passed while "
                    f"nothing was serving; they fold into the run for {iso(last)}",
                )
            if stale:
                assert old_waiting is not None
                _insert_skipped(
                    conn,
                    row.project,
                    old_waiting,
                    EndReason.SKIPPED_MISSED,
                    f"the run due at {old_waiting} waited while nothing was serving; it folds "
                    f"into the run for {iso(last)}",
                )
            elif old_waiting is not None:
                _insert_skipped(
                    conn,
                    row.project,
                    iso(last),
                    EndReason.SKIPPED_BUSY,
                    _busy_message(conn, row.project, old_waiting),
                )

    def take_waiting(self, project: str, slot: str) -> bool:
        """Clear ``project``'s waiting ``slot`` (about to start its run); ``True`` for the one
        caller whose UPDATE cleared it, ``False`` for any other."""
        with self.engine.begin() as conn:
            done = conn.execute(
                schedules.update()
                .where(schedules.c.project == project)
                .where(schedules.c.waiting_slot == slot)
                .values(waiting_slot=None, updated_at=now_iso())
            )
            return done.rowcount == 1

    def record_skipped(
        self, project: str, slot: str, reason: EndReason, message: str
    ) -> int | None:
        """Record ``slot`` of ``project`` as a Skipped run (trigger ``schedule``, no tasks) with
        ``reason`` and ``message``; its id, or ``None`` when that slot already has a run."""
        with self.engine.begin() as conn:
            return _insert_skipped(conn, project, slot, reason, message)


def _insert_row(conn: sa.Connection, values: dict[str, Any]) -> None:
    # another process may have added the row first: its row is as good as ours
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(schedules).values(values).on_conflict_do_nothing())
    else:
        conn.execute(schedules.insert().prefix_with("OR IGNORE").values(values))


def _insert_skipped(
    conn: sa.Connection, project: str, slot: str, reason: EndReason, message: str
) -> int | None:
    exists = conn.execute(
        sa.select(runs.c.id).where(runs.c.project == project, runs.c.scheduled_for == slot)
    ).first()
    if exists is not None:
        return None
    stamp = now_iso()
    try:
        with conn.begin_nested():
            key = conn.execute(
                runs.insert().values(
                    project=project,
                    status=RunStatus.SKIPPED,
                    mode="incremental",
                    started_at=stamp,
                    finished_at=stamp,
                    message=message,
                    owner=owner(),
                    trigger="schedule",
                    scheduled_for=slot,
                    end_reason=reason,
                )
            ).inserted_primary_key
    except sa.exc.IntegrityError:
        return None
    assert key is not None
    return int(key[0])


def _busy_message(conn: sa.Connection, project: str, waiting: str) -> str:
    running = conn.execute(
        sa.select(runs.c.id)
        .where(runs.c.project == project, runs.c.status == RunStatus.RUNNING)
        .order_by(runs.c.id.desc())
        .limit(1)
    ).scalar()
    if running is None:
        return f"the run of {project} due at {waiting} was still waiting to start"
    return (
        f"run {running} of {project} was still running and the run due at {waiting} "
        "already waited for it"
    )
