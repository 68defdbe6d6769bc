"""The SQL connector: any SQLAlchemy database through the connector protocol."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from integrator.connectors.base import (
    Capabilities,
    ChangeBatch,
    EntityInfo,
    RangePage,
    Record,
    RecordResult,
)
from integrator.connectors.sql.change_ranges import change_bounds, read_change_range
from integrator.connectors.sql.changes import current_checkpoint, read_changes
from integrator.connectors.sql.config import SqlConnection, SqlOptions
from integrator.connectors.sql.delete import delete_batch
from integrator.connectors.sql.ranges import key_bounds, read_range
from integrator.connectors.sql.read import build_query, read_pages
from integrator.connectors.sql.schema import TableModel, reflect_table
from integrator.connectors.sql.upsert import upsert_batch
from integrator.errors import RequestRejected, RetriableError

__all__ = ["SqlConnector"]


class SqlConnector:
    """Reads, upserts and reads changes of the tables of one database.

    Every operation works on whole pages and batches: a page is one keyset-paged ``SELECT``
    (lookups joined in), a batch one transaction of ``executemany`` writes.
    """

    def __init__(
        self,
        connection: SqlConnection,
        *,
        password: str | None = None,
        engine: Engine | None = None,
    ) -> None:
        """A connector for ``connection``'s database, signing in with ``password`` (a resolved
        secret; ``SqlConnection.open`` reads it); ``engine`` replaces the one it would make."""
        self.connection = connection
        self.options = connection.sql
        #: the database URL, password included (SQLAlchemy masks it in ``repr``)
        self.url = connection.database_url(password)
        self.capabilities = Capabilities(
            filter_pushdown=True,
            max_page_size=connection.page_size,
            max_batch_size=connection.batch_size,
            change_tracking=False,
            watermark_reads=True,
            lookups=True,
            # SQLite's BINARY and PostgreSQL's default collations: 'A' <> 'a', 'A' <> 'A '
            key_collation="exact",
            key_ranges=True,
            change_ranges=True,
        )
        self._engine = engine if engine is not None else create_engine(self.url, self.options)
        self._models: dict[str, TableModel] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_connection(cls, connection: SqlConnection, root: Path | None = None) -> SqlConnector:
        """The connector ``connection`` configures; its password is read now from where
        ``sql.password`` names it (a file relative to ``root``). Raises ``ConfigError``."""
        secret = connection.sql.password
        password = secret.resolve(root).get_secret_value() if secret is not None else None
        return cls(connection, password=password)

    @classmethod
    def from_url(
        cls, url: str | sa.URL, *, page_size: int = 5000, batch_size: int = 1000, **options: Any
    ) -> SqlConnector:
        """A connector for ``url`` (a password in it is used, never shown); ``options`` are
        :class:`~integrator.connectors.sql.config.SqlOptions` fields (``schema``,
        ``watermarks``, ...). Raises ``pydantic.ValidationError`` for a bad value."""
        parsed = sa.make_url(url)
        connection = SqlConnection.model_validate(
            {
                "url": parsed._replace(password=None).render_as_string(hide_password=False),
                "page_size": page_size,
                "batch_size": batch_size,
                "sql": options,
            }
        )
        return cls(connection, password=parsed.password)

    def __repr__(self) -> str:
        return f"SqlConnector({self.masked_url()})"

    def masked_url(self) -> str:
        """The URL with its password replaced by ``***``, safe for logs and messages."""
        return self.url.render_as_string(hide_password=True)

    def describe(self, entity: str) -> EntityInfo:
        """Fields (types, lengths, required), primary key and unique keys, from reflection."""
        return self._model(entity).info

    def read(
        self,
        entity: str,
        fields: Sequence[str],
        *,
        filter: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[Record]]:
        """Yield pages holding exactly ``fields``; the filter runs in the database."""
        model = self._model(entity)
        query = build_query(
            model, fields, filter=filter, case_insensitive=self.options.case_insensitive_filters
        )
        size = _page_size(page_size or self.connection.page_size)
        with self._translated():
            for records, _ in read_pages(self._engine, query, size):
                yield records

    def upsert(
        self, entity: str, records: Sequence[Record], *, key: Sequence[str]
    ) -> list[RecordResult]:
        """Insert or update ``records`` by ``key``, one transaction per batch of ``batch_size``.

        A refused record fails alone with the database's reason; the rest of its batch is
        written. Raises ``RetriableError`` when the database is unreachable or busy, with that
        batch rolled back whole.
        """
        model = self._model(entity)
        results: list[RecordResult] = []
        size = self.connection.batch_size
        for start in range(0, len(records), size):
            batch = records[start : start + size]
            with self._translated(), self._engine.connect() as connection:
                connection = connection.execution_options(sqlite_begin="IMMEDIATE")
                with connection.begin():
                    results.extend(upsert_batch(connection, model, batch, key))
        return results

    def delete(self, entity: str, keys: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        """Delete the rows with ``keys``, one transaction per batch of ``batch_size``; a missing
        row is ``unchanged``, a refused delete fails alone with the database's reason."""
        model = self._model(entity)
        results: list[RecordResult] = []
        size = self.connection.batch_size
        for start in range(0, len(keys), size):
            with self._translated(), self._engine.connect() as connection:
                connection = connection.execution_options(sqlite_begin="IMMEDIATE")
                with connection.begin():
                    results.extend(delete_batch(connection, model, keys[start : start + size]))
        return results

    def read_changes(
        self, entity: str, fields: Sequence[str], *, checkpoint: str | None
    ) -> Iterator[ChangeBatch]:
        """Rows inserted or updated since ``checkpoint``, by the entity's watermark column.

        Deletes are not seen (a deleted row leaves nothing to read). Raises ``RequestRejected``
        (code ``no-watermark``) when the config names no watermark column for ``entity``.
        """
        watermark = self._watermark(entity)
        model = self._model(entity)
        with self._translated():
            yield from read_changes(
                self._engine,
                model,
                fields,
                watermark=watermark,
                checkpoint=checkpoint,
                page_size=self.connection.page_size,
            )

    def key_bounds(self, entity: str, every: int) -> tuple[str, list[Any]] | None:
        """The key column and every ``every``-th key of ``entity``, cutting it into ranges;
        ``None`` when its key cannot be cut (see :mod:`integrator.connectors.sql.ranges`)."""
        model = self._model(entity)
        with self._translated():
            return key_bounds(self._engine, model, every, folded=self._folds_keys)

    def read_range(
        self,
        entity: str,
        fields: Sequence[str],
        *,
        lower: Any,
        upper: Any,
        after: Any = None,
    ) -> Iterator[RangePage]:
        """Keyset pages of the rows with ``lower <= key < upper``, after ``after`` if given."""
        model = self._model(entity)
        with self._translated():
            yield from read_range(
                self._engine,
                model,
                fields,
                lower=lower,
                upper=upper,
                after=after,
                page_size=self.connection.page_size,
                folded=self._folds_keys,
            )

    def change_bounds(self, entity: str, checkpoint: str | None, every: int) -> list[Any] | None:
        """The (watermark, key) values cutting the rows changed since ``checkpoint`` into
        ranges of about ``every``; ``None`` without a watermark column or a checkpoint (see
        :mod:`integrator.connectors.sql.change_ranges`)."""
        watermark = self.options.watermarks.get(entity)
        if watermark is None:
            return None
        model = self._model(entity)
        with self._translated():
            return change_bounds(
                self._engine, model, watermark=watermark, checkpoint=checkpoint, every=every
            )

    def read_change_range(
        self,
        entity: str,
        fields: Sequence[str],
        *,
        since: str,
        lower: Any,
        upper: Any,
        after: Any = None,
    ) -> Iterator[RangePage]:
        """Keyset pages of the rows changed since ``since`` in ``lower <= (watermark, key) <
        upper``, after ``after`` if given. Raises ``RequestRejected`` (``no-watermark``)
        without a watermark column."""
        watermark = self._watermark(entity)
        model = self._model(entity)
        with self._translated():
            yield from read_change_range(
                self._engine,
                model,
                fields,
                watermark=watermark,
                since=since,
                lower=lower,
                upper=upper,
                after=after,
                page_size=self.connection.page_size,
            )

    def _watermark(self, entity: str) -> str:
        watermark = self.options.watermarks.get(entity)
        if watermark is None:
            raise RequestRejected(
                f"no watermark column is configured for {entity}; incremental reads need one",
                code="no-watermark",
            )
        return watermark

    @property
    def _folds_keys(self) -> bool:
        return self.capabilities.key_collation == "dynamics"

    def change_checkpoint(self, entity: str, fields: Sequence[str] | None = None) -> str | None:
        """Where a watermark read from now goes on from, whatever ``fields`` it reads;
        ``None`` without a watermark column."""
        watermark = self.options.watermarks.get(entity)
        if watermark is None:
            return None
        model = self._model(entity)
        with self._translated():
            return current_checkpoint(self._engine, model, watermark=watermark)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def _model(self, entity: str) -> TableModel:
        with self._lock:
            cached = self._models.get(entity)
            if cached is not None:
                return cached
            with self._translated():
                model = reflect_table(self._engine, self.options, entity)
            self._models[entity] = model
            return model

    def _translated(self) -> _Translated:
        return _Translated(self.masked_url())


class _Translated:
    """Turns connection-level database errors into integrator errors without the password."""

    def __init__(self, masked_url: str) -> None:
        self.masked_url = masked_url

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: Any
    ) -> Literal[False]:
        if isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError):
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise RetriableError(f"database {self.masked_url} is unavailable: {reason}") from None
        if isinstance(error, sa.exc.DBAPIError):
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise RequestRejected(
                f"database {self.masked_url} refused the request: {reason}"
            ) from None
        return False


def create_engine(url: sa.URL, options: SqlOptions) -> Engine:
    """An engine for ``url``; SQLite gets real transactions, savepoints and (unless
    ``options`` say otherwise) foreign keys."""
    engine = sa.create_engine(url, pool_pre_ping=url.get_backend_name() != "sqlite")
    if engine.dialect.name == "sqlite":
        foreign_keys = "ON" if options.sqlite_foreign_keys else "OFF"

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _: Any) -> None:
            # let SQLAlchemy, not the sqlite3 module, decide when transactions begin (savepoints
            # do not work otherwise)
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA foreign_keys = {foreign_keys}")
            cursor.execute("PRAGMA busy_timeout = 30000")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(connection: sa.Connection) -> None:
            mode = connection.get_execution_options().get("sqlite_begin", "")
            connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


def _page_size(size: int) -> int:
    if size < 1:
        raise ValueError(f"page size must be at least 1, got {size}")
    return size
