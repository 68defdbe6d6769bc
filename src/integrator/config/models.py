"""The typed models of a workspace's files: ``integrator.yaml``, ``connections.yaml`` and
``projects/<name>.yaml``. Closed vocabularies are ``Literal``; unknown keys are errors.

A connection's own model belongs to its connector (see :mod:`integrator.connectors.registry`):
here, a connection set only names which system each one is."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from integrator.connectors.registry import Connection
from integrator.secrets import SecretRef, url_holds_password
from integrator.templates.model import System, TemplateBody

__all__ = [
    "Connection",
    "ConnectionSet",
    "ConnectionsFile",
    "HistorySettings",
    "Notify",
    "OrganizationMapping",
    "Project",
    "Schedule",
    "SmtpSettings",
    "WorkersSettings",
    "WorkspaceSettings",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HistorySettings(_Strict):
    """Where execution history is kept and for how long."""

    #: SQLAlchemy URL; ``None`` keeps it in ``history.db`` in the workspace
    database_url: str | None = None
    #: the database password, when the URL needs one (never written into the URL)
    database_password: SecretRef | None = None
    retention_days: PositiveInt = 45

    @model_validator(mode="after")
    def _url_is_usable(self) -> HistorySettings:
        if self.database_url is None:
            return self
        try:
            url = make_url(self.database_url)
        except ArgumentError:
            raise ValueError(
                "database_url is not a database URL (e.g. postgresql+psycopg://user@host/db)"
            ) from None
        if url_holds_password(url):
            raise ValueError(
                "database_url holds a password: remove it and set "
                "database_password: {env: VAR_NAME}"
            )
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("database_url must be a SQLite or PostgreSQL URL")
        return self


class SmtpSettings(_Strict):
    """``settings.smtp``: the mail server notifications are sent through (SPEC §7)."""

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    #: upgrade the connection with STARTTLS before logging in (refused if the server cannot)
    starttls: bool = True
    username: str | None = None
    #: the login password, where it is (never the password itself)
    password: SecretRef | None = None
    #: the From address
    sender: str = Field(min_length=3)
    #: seconds to wait for the server at each step
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)

    @model_validator(mode="after")
    def _login_is_whole(self) -> SmtpSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError(
                "give both username and password (password: {env: VAR_NAME}), or neither"
            )
        if "@" not in self.sender:
            raise ValueError(f"sender {self.sender!r} is not an e-mail address")
        return self


class WorkersSettings(_Strict):
    """``workers:``: distributed mode (SPEC §9). With ``queue: true`` runs are jobs on a queue
    in the history's PostgreSQL database, run by ``integrator worker`` processes."""

    #: runs go through the queue (``integrator run``, ``serve``); false: as without ``workers:``
    queue: bool = True
    #: the queue's name, so that several workspaces may share one database
    queue_name: str = Field(default="integrator", min_length=1, max_length=60)
    #: how often an idle worker looks for a job it was not told about
    poll_seconds: float = Field(default=5.0, gt=0, le=300)
    #: how often a worker says it is alive
    heartbeat_seconds: float = Field(default=10.0, gt=0, le=300)
    #: a worker silent this long is dead: another takes its jobs over
    stalled_after_seconds: float = Field(default=30.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _stalled_after_beats(self) -> WorkersSettings:
        if self.stalled_after_seconds <= 2 * self.heartbeat_seconds:
            raise ValueError(
                "stalled_after_seconds must be more than twice heartbeat_seconds (a late "
                "heartbeat must not look like a dead worker)"
            )
        return self


class WorkspaceSettings(_Strict):
    """``integrator.yaml``: settings of the workspace as a whole."""

    version: Literal[1] = 1
    history: HistorySettings = HistorySettings()
    smtp: SmtpSettings | None = None
    workers: WorkersSettings | None = None
    #: a full read of a source holding more records than this is cut into key ranges of
    #: about this many, each run (and resumed) on its own; ``null`` never cuts
    partition_records: PositiveInt | None = 5_000_000

    @property
    def distributed(self) -> bool:
        """Runs go through the job queue (``workers: {queue: true}``)."""
        return self.workers is not None and self.workers.queue


class OrganizationMapping(_Strict):
    """CDS organization ↔ F&O legal entity: the values of the template fields bound to them
    (``bindings:`` in a task, see :mod:`integrator.templates.bindings`)."""

    cds_organization: str = Field(default="ORG001", min_length=1)
    finops_legal_entity: str = Field(default="USMF", min_length=1)
    #: accepted only empty: no template reads or writes Sales by business unit (see below)
    sales_business_unit: str | None = None

    @model_validator(mode="after")
    def _no_business_unit(self) -> OrganizationMapping:
        # Data Integrator's business unit owns the records a project writes *into* Sales; the
        # P2C templates only read Sales, from every business unit, so a value would do nothing.
        if self.sales_business_unit is not None:
            raise ValueError(
                "sales_business_unit does nothing: the templates read the Sales records of "
                "every business unit and write none into Sales; remove it (to sync only some "
                "records, use the task's source_filter)"
            )
        return self


class ConnectionSet(_Strict):
    """The connections a project uses, its organization mapping and its integration keys."""

    sales: Connection | None = None
    cds: Connection | None = None
    finops: Connection | None = None
    organization_mapping: OrganizationMapping = OrganizationMapping()
    #: business keys, ``entity.field``: ``accounts.accountnumber``
    integration_keys: tuple[str, ...] = ()

    def connection(self, system: System) -> Connection | None:
        """The connection for ``system`` (``sales``, ``cds``, ``finops``), if set."""
        connection: Connection | None = getattr(self, system)
        return connection

    def integration_key(self, entity: str) -> str | None:
        """The business key field of ``entity`` (``accounts`` → ``accountnumber``), if any."""
        for item in self.integration_keys:
            name, _, field = item.partition(".")
            if name == entity and field:
                return field
        return None


class ConnectionsFile(_Strict):
    """``connections.yaml``: the workspace's connection sets by name."""

    connection_sets: dict[str, ConnectionSet] = Field(min_length=1)


class Schedule(_Strict):
    """Data Integrator's *Recur every* ``every`` ``unit``, *Starting at* ``starting_at``, until
    the optional ``ending_at``, in ``time_zone`` (an IANA name; default UTC). A date and time
    written without an offset is a wall-clock time in ``time_zone``."""

    every: PositiveInt
    unit: Literal["minutes", "hours", "days", "weeks", "months"]
    starting_at: datetime | None = None
    ending_at: datetime | None = None
    time_zone: str = "UTC"

    @model_validator(mode="before")
    @classmethod
    def _start_was_called_start(cls, data: Any) -> Any:
        # project files written before 0.2 say `start:`
        if isinstance(data, dict) and "start" in data and "starting_at" not in data:
            data = {("starting_at" if k == "start" else k): v for k, v in data.items()}
        return data

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as UTC or Europe/Paris"
            ) from None
        return value

    @model_validator(mode="after")
    def _ends_after_start(self) -> Schedule:
        if self.starting_at is not None and self.ending_at is not None:
            zone = ZoneInfo(self.time_zone)
            start = (
                self.starting_at
                if self.starting_at.tzinfo
                else self.starting_at.replace(tzinfo=zone)
            )
            end = self.ending_at if self.ending_at.tzinfo else self.ending_at.replace(tzinfo=zone)
            if end <= start:
                raise ValueError("ending_at must be after starting_at")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The schedule's time zone."""
        return ZoneInfo(self.time_zone)


class Notify(_Strict):
    """``notify:`` of a project: who gets an e-mail when one of its runs ends in one of ``on``."""

    emails: tuple[str, ...] = Field(min_length=1)
    on: tuple[Literal["warning", "error"], ...] = ("warning", "error")

    @field_validator("emails")
    @classmethod
    def _addresses(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            local, at, domain = value.partition("@")
            if not (local and at and domain) or any(c.isspace() for c in value):
                raise ValueError(f"{value!r} is not an e-mail address")
        return values


class Project(TemplateBody):
    """``projects/<name>.yaml``: a template's tasks bound to a connection set, as the user edits
    them. The project's name is its file name."""

    #: the template this project was created from
    template: str | None = None
    connection_set: str = Field(default="default", min_length=1)
    schedule: Schedule | None = None
    notify: Notify | None = None
