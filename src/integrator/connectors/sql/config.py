"""How a SQL connection is configured: the URL, paging and batch sizes, watermarks, relations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from integrator.errors import ConfigError, ConfigProblem

__all__ = ["Relation", "SqlConfig"]


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class SqlConfig:
    """A SQL connection: any SQLAlchemy URL plus what the database cannot tell us itself.

    The password never appears in ``repr`` or messages (SQLAlchemy's ``URL`` masks it); pass it
    separately as ``password`` when it comes from a secret store rather than the URL.
    """

    url: sa.URL
    #: database schema (PostgreSQL ``search_path`` entry) holding the tables; ``None``: default
    schema: str | None = None
    #: rows per page when ``read`` is not given a page size
    page_size: int = 5000
    #: records per upsert transaction
    batch_size: int = 1000
    #: entity -> the column whose value grows on every insert and update (``modifiedon``)
    watermarks: Mapping[str, str] = field(default_factory=dict)
    relations: tuple[Relation, ...] = ()
    #: compare strings in ``$filter`` without regard to case, as Dataverse does
    case_insensitive_filters: bool = False
    #: SQLite only: enforce the file's foreign keys (SQLite leaves them off by default)
    sqlite_foreign_keys: bool = True

    def __post_init__(self) -> None:
        problems = [
            f"{name} must be at least 1, not {value}"
            for name, value in (("page_size", self.page_size), ("batch_size", self.batch_size))
            if value < 1
        ]
        if problems:
            raise ConfigError(
                [ConfigProblem(file="", line=None, path="sql", message=p) for p in problems]
            )

    @classmethod
    def from_url(
        cls, url: str | sa.URL, *, password: str | None = None, **options: object
    ) -> SqlConfig:
        """Build a config from a URL string; ``password`` (a resolved secret) replaces the URL's."""
        parsed = sa.make_url(url)
        if password is not None:
            parsed = parsed.set(password=password)
        return cls(url=parsed, **options)  # type: ignore[arg-type]

    def masked_url(self) -> str:
        """The URL with its password replaced by ``***``, safe for logs and messages."""
        return self.url.render_as_string(hide_password=True)

    def relations_of(self, entity: str) -> dict[str, list[Relation]]:
        """Declared relations of ``entity`` by lookup name (several targets when polymorphic)."""
        found: dict[str, list[Relation]] = {}
        for relation in self.relations:
            if relation.entity == entity:
                found.setdefault(relation.name, []).append(relation)
        return found
