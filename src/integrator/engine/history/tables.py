"""The history store's tables (SQLAlchemy Core). Changes go through a new migration."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "checkpoints",
    "metadata",
    "outbox",
    "partition_seen",
    "record_errors",
    "record_state",
    "runs",
    "schedules",
    "task_mappings",
    "task_partitions",
    "task_runs",
    "truncations",
]

metadata = sa.MetaData()

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(200), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("mode", sa.String(20), nullable=False),
    sa.Column("rerun_of", sa.Integer, sa.ForeignKey("runs.id", ondelete="SET NULL")),
    sa.Column("started_at", sa.String(40), nullable=False),
    sa.Column("finished_at", sa.String(40)),
    sa.Column("message", sa.Text),
    sa.Column("owner", sa.String(200)),
    sa.Column("trigger", sa.String(20), nullable=False, server_default="manual"),
    sa.Column("scheduled_for", sa.String(40)),
    sa.Column("end_reason", sa.String(40)),
    sa.Column("heartbeat_at", sa.String(40)),
    sa.Column("cancel_requested_at", sa.String(40)),
    # one run (or Skipped entry) per schedule slot of a project, whichever process records it
    sa.Index("ux_runs_project_slot", "project", "scheduled_for", unique=True),
)

task_runs = sa.Table(
    "task_runs",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("task", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("read", sa.Integer, nullable=False, default=0),
    sa.Column("inserted", sa.Integer, nullable=False, default=0),
    sa.Column("updated", sa.Integer, nullable=False, default=0),
    sa.Column("unchanged", sa.Integer, nullable=False, default=0),
    sa.Column("errors", sa.Integer, nullable=False, default=0),
    sa.Column("still_failing", sa.Integer, nullable=False, default=0),
)

record_errors = sa.Table(
    "record_errors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), index=True),
    sa.Column("task", sa.String(200), nullable=False),
    sa.Column("leg", sa.String(40), nullable=False),
    sa.Column("record_key", sa.String(400), nullable=False),
    sa.Column("field", sa.String(200)),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("source_key", sa.Text),
    sa.Column("transient", sa.Boolean, nullable=False, default=False),
    sa.Column("still_failing", sa.Boolean, nullable=False, default=False),
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("project", sa.String(200), primary_key=True),
    sa.Column("task", sa.String(200), primary_key=True),
    sa.Column("checkpoint", sa.Text, nullable=False),
    sa.Column("run_id", sa.Integer),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

#: per source record of a task: the keys it may have rows under in each leg (JSON list, a list
#: of key dicts per leg), whether it is pending a retry, and how it failed (JSON
#: ``RecordFailure``; ``retry_at`` apart, to select the records due)
record_state = sa.Table(
    "record_state",
    metadata,
    sa.Column("project", sa.String(200), primary_key=True),
    sa.Column("task", sa.String(200), primary_key=True),
    sa.Column("source_id", sa.String(400), primary_key=True),
    sa.Column("record_key", sa.String(400), nullable=False),
    sa.Column("leg_keys", sa.Text),
    sa.Column("pending", sa.Boolean, nullable=False),
    sa.Column("failure", sa.Text),
    sa.Column("retry_at", sa.String(40)),
)

#: per task of a project: the fingerprint of its compiled mapping as last run, and as last run
#: with a full read (the records written since a mapping change are those read since)
task_mappings = sa.Table(
    "task_mappings",
    metadata,
    sa.Column("project", sa.String(200), primary_key=True),
    sa.Column("task", sa.String(200), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("run_id", sa.Integer),
    sa.Column("full_read_fingerprint", sa.String(64)),
    sa.Column("full_read_run_id", sa.Integer),
)

#: per task of a project whose full read is cut into key ranges: each range (JSON bounds on
#: ``field``, ``None`` open), the key its last committed page ended on (``resume``, JSON), whether
#: it is done, and the task's change checkpoint taken before the load (``snapshot``); the rows
#: go when every range is done
task_partitions = sa.Table(
    "task_partitions",
    metadata,
    sa.Column("project", sa.String(200), primary_key=True),
    sa.Column("task", sa.String(200), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer),
    sa.Column("field", sa.String(200), nullable=False),
    sa.Column("lower", sa.Text),
    sa.Column("upper", sa.Text),
    sa.Column("resume", sa.Text),
    sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("snapshot", sa.Text),
    sa.Column("updated_at", sa.String(40), nullable=False),
    #: a plan of change ranges: the checkpoint its ranges read the changes after
    sa.Column("since", sa.Text),
)

#: per task of a project whose full read is cut into key ranges: the source ids its committed
#: pages saw (read, or reported deleted); the task's record states with none are the records
#: gone from the source once every range is done, and the rows go with the plan
partition_seen = sa.Table(
    "partition_seen",
    metadata,
    sa.Column("project", sa.String(200), primary_key=True),
    sa.Column("task", sa.String(200), primary_key=True),
    sa.Column("source_id", sa.String(400), primary_key=True),
)

#: per task of a run, leg and field: how many values Truncate shortened (to ``limit``; the
#: longest was ``longest`` characters) in records that were written
truncations = sa.Table(
    "truncations",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("leg", sa.String(40), primary_key=True),
    sa.Column("field", sa.String(200), primary_key=True),
    sa.Column("limit", sa.Integer, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("longest", sa.Integer, nullable=False),
)

#: per scheduled project: its schedule as last seen in the project file (JSON, to notice an
#: edit), the next slot (ISO-8601 UTC; ``None``: past its end), and the slot claimed and waiting
#: for a run to start (at most one: a later slot that finds one waiting is recorded Skipped)
schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("project", sa.String(200), primary_key=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("next_run_at", sa.String(40)),
    sa.Column("waiting_slot", sa.String(40)),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

#: a notification e-mail per run, written in the transaction that records the run's end and
#: sent from here: ``pending`` (with its next attempt), ``sent``, or ``failed`` (gave up)
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "run_id",
        sa.Integer,
        sa.ForeignKey("runs.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("recipients", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.String(40)),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", sa.String(40)),
    sa.Column("created_at", sa.String(40), nullable=False),
)
