"""The typed models of a workspace's files: ``integrator.yaml``, ``connections.yaml`` and
``projects/<name>.yaml``. Closed vocabularies are ``Literal``; unknown keys are errors."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from integrator.config.secrets import SecretRef
from integrator.connectors.finops.config import check_same_origin
from integrator.connectors.sql.config import Relation
from integrator.templates.model import System, TemplateBody

__all__ = [
    "Auth",
    "Connection",
    "ConnectionSet",
    "ConnectionsFile",
    "FinOpsOptions",
    "HistorySettings",
    "OrganizationMapping",
    "Project",
    "Schedule",
    "SqlOptions",
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
        if url.password is not None:
            raise ValueError(
                "database_url holds a password: remove it and set "
                "database_password: {env: VAR_NAME}"
            )
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("database_url must be a SQLite or PostgreSQL URL")
        return self


class WorkspaceSettings(_Strict):
    """``integrator.yaml``: settings of the workspace as a whole."""

    version: Literal[1] = 1
    history: HistorySettings = HistorySettings()


class Auth(_Strict):
    """How integrator signs in to a system.

    ``none`` (the sandbox), ``token`` (a static bearer token), or ``client_credentials`` (an
    Azure AD app: ``tenant_id``, ``client_id`` and ``client_secret``).
    """

    type: Literal["none", "token", "client_credentials"] = "none"
    token: SecretRef | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretRef | None = None
    #: OAuth scope; defaults to ``<url origin>/.default``
    scope: str | None = None
    authority: str | None = None

    @model_validator(mode="after")
    def _fields_match_type(self) -> Auth:
        needed = {
            "none": (),
            "token": ("token",),
            "client_credentials": ("tenant_id", "client_id", "client_secret"),
        }[self.type]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"auth type {self.type} needs {', '.join(missing)}")
        allowed = {*needed, "type", "scope", "authority"} if self.type != "none" else {"type"}
        extra = [name for name in self.model_fields_set if name not in allowed]
        if extra:
            raise ValueError(f"auth type {self.type} does not take {', '.join(sorted(extra))}")
        return self


class SqlOptions(_Strict):
    """What a SQL database cannot tell about itself."""

    #: database schema holding the tables (PostgreSQL); ``None``: the default one
    db_schema: str | None = Field(default=None, alias="schema")
    #: the database password, when the URL needs one (never written into the URL)
    password: SecretRef | None = None
    #: entity → column that grows on every insert and update (incremental reads)
    watermarks: dict[str, str] = Field(default_factory=dict)
    #: lookups the database has no foreign key for, one per target of a polymorphic lookup
    relations: tuple[Relation, ...] = ()
    #: compare strings in filters without regard to case, as Dataverse does
    case_insensitive_filters: bool = False


class FinOpsOptions(_Strict):
    """How the F&O connector reads F&O's metadata (``kind: finops`` only)."""

    #: F&O's metadata service; ``None``: ``/Metadata/`` beside the OData root ``url``
    metadata_url: str | None = None
    #: read string lengths from ``$metadata`` once a run (tens of MB on a real environment);
    #: ``false``: no lengths, so ``Truncate`` needs an explicit ``length``
    string_lengths: bool = True


class Connection(_Strict):
    """One system's endpoint and credentials."""

    kind: Literal["dataverse", "finops", "sql"]
    url: str = Field(min_length=1)
    auth: Auth = Auth()
    #: records per page read (default: the system's maximum, 5000 Dataverse, 10000 F&O)
    page_size: PositiveInt | None = None
    #: records per write request (``$batch`` of at most 1000 operations) or SQL transaction
    batch_size: int | None = Field(default=None, ge=1, le=1000)
    #: write requests sent at once (HTTP)
    parallel_batches: PositiveInt | None = None
    #: ``kind: dataverse``: ``auto`` writes with UpsertMultiple/CreateMultiple where the table
    #: offers them, ``never`` always with ``$batch``
    bulk_messages: Literal["auto", "never"] = "auto"
    #: ``kind: sql`` only
    sql: SqlOptions | None = None
    #: ``kind: finops`` only
    finops: FinOpsOptions | None = None

    @model_validator(mode="after")
    def _finops_options_for_finops(self) -> Connection:
        if self.finops is not None and self.kind != "finops":
            raise ValueError("finops options are for connections of kind finops")
        if self.finops is not None and self.finops.metadata_url is not None:
            check_same_origin(self.url, self.finops.metadata_url)
        return self

    @model_validator(mode="after")
    def _sql_options_for_sql(self) -> Connection:
        if self.sql is not None and self.kind != "sql":
            raise ValueError("sql options are for connections of kind sql")
        if self.kind == "sql" and self.auth.type != "none":
            raise ValueError("a sql connection takes its password in sql.password, not auth")
        return self


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
    """Run the project every ``every`` ``unit`` (from ``start``, when given)."""

    every: PositiveInt
    unit: Literal["minutes", "hours", "days", "weeks", "months"]
    start: datetime | None = None


class Project(TemplateBody):
    """``projects/<name>.yaml``: a template's tasks bound to a connection set, as the user edits
    them. The project's name is its file name."""

    #: the template this project was created from
    template: str | None = None
    connection_set: str = Field(default="default", min_length=1)
    schedule: Schedule | None = None
