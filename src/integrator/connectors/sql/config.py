"""``kind: sql`` in connections.yaml: any SQLAlchemy URL, paging and batch sizes, and what the
database cannot tell about itself (watermarks, relations, the schema, the password's place)."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from pydantic import ConfigDict, Field, PositiveInt, field_validator
from pydantic.dataclasses import dataclass
from sqlalchemy.exc import ArgumentError

from integrator.connectors.configuration import Auth, ConnectionConfig, StrictModel
from integrator.secrets import SecretRef, url_holds_password

__all__ = ["Relation", "SqlConnection", "SqlOptions"]


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Relation:
    """A lookup from ``entity`` to ``target``, declared when the database has no foreign key.

    ``name`` is what dotted fields use (``parentcustomerid.accountnumber``). A polymorphic lookup
    (a contact's company is an account or a contact) is declared once per target, with the same
    ``name`` and the ``type_column`` / ``type_value`` that tell the targets apart::

        Relation("contacts", "parentcustomerid", "parentcustomerid", "accounts", "accountid",
                 type_column="parentcustomeridtype", type_value="account")
    """

    entity: str
    name: str
    column: str
    target: str
    target_key: str
    type_column: str | None = None
    type_value: str | None = None


class SqlOptions(StrictModel):
    """What a SQL database cannot tell about itself."""

    #: database schema holding the tables (PostgreSQL ``search_path`` entry); ``None``: default
    db_schema: str | None = Field(default=None, alias="schema")
    #: the database password, when the URL needs one (never written into the URL)
    password: SecretRef | None = None
    #: entity → column that grows on every insert and update (incremental reads)
    watermarks: dict[str, str] = Field(default_factory=dict)
    #: lookups the database has no foreign key for, one per target of a polymorphic lookup
    relations: tuple[Relation, ...] = ()
    #: compare strings in filters without regard to case, as Dataverse does
    case_insensitive_filters: bool = False
    #: SQLite only: enforce the file's foreign keys (SQLite leaves them off by default)
    sqlite_foreign_keys: bool = True

    def relations_of(self, entity: str) -> dict[str, list[Relation]]:
        """Declared relations of ``entity`` by lookup name (several targets when polymorphic)."""
        found: dict[str, list[Relation]] = {}
        for relation in self.relations:
            if relation.entity == entity:
                found.setdefault(relation.name, []).append(relation)
        return found


class SqlConnection(ConnectionConfig):
    """A database, by SQLAlchemy URL (``sqlite:///staging.db``,
    ``postgresql+psycopg://integrator@db.example.com/staging``), without its password."""

    kind: Literal["sql"] = "sql"
    url: str
    #: ``{type: none}`` only: the database's password is ``sql.password``
    auth: Auth = Auth()
    #: rows per page read
    page_size: PositiveInt = 5000
    #: records per upsert transaction
    batch_size: PositiveInt = 1000
    sql: SqlOptions = SqlOptions()

    @field_validator("url")
    @classmethod
    def _database_url(cls, url: str) -> str:
        try:
            parsed = sa.make_url(url)
        except ArgumentError:
            raise ValueError(
                "not a database URL (e.g. sqlite:///staging.db or "
                "postgresql+psycopg://user@host/db)"
            ) from None
        if url_holds_password(parsed):
            raise ValueError(
                "the URL holds a password: remove it and set sql: {password: {env: VAR_NAME}}"
            )
        return url

    @field_validator("auth")
    @classmethod
    def _no_sign_in(cls, auth: Auth) -> Auth:
        if auth.type != "none":
            raise ValueError("a sql connection takes its password in sql.password, not auth")
        return auth

    def database_url(self, password: str | None = None) -> sa.URL:
        """The SQLAlchemy URL, with ``password`` (a resolved secret) filled in when given."""
        parsed = sa.make_url(self.url)
        return parsed if password is None else parsed.set(password=password)
