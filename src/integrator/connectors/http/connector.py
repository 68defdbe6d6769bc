"""What the Dataverse and F&O connectors share: describe, read in pages, upsert in ``$batch``.

The connector takes a :class:`~integrator.connectors.http.service.ServiceDialect` for what
differs between services: extra query options (F&O's ``cross-company``), the write request for
one record (Dataverse upserts with ``PATCH`` by alternate key; F&O creates with ``POST`` and
updates with ``PATCH`` by entity key), and what to do when a write is refused in a way that a
different request would fix. Sending and retrying is the client's job
(:class:`~integrator.connectors.http.client.ODataClient`).

How an upsert is planned and what it costs is described in :mod:`.upsert`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal
from urllib.parse import quote

from integrator.connectors.base import (
    Capabilities,
    ChangeBatch,
    EntityInfo,
    Record,
    RecordResult,
)
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.connection import HttpConnection
from integrator.connectors.http.delete import delete_keys
from integrator.connectors.http.fields import project, rename_fields
from integrator.connectors.http.keys import key_path
from integrator.connectors.http.lookup import check_row
from integrator.connectors.http.metadata import EntitySetMetadata, ServiceMetadata, parse_metadata
from integrator.connectors.http.plans import WritePlan
from integrator.connectors.http.responses import describe_url
from integrator.connectors.http.service import DUPLICATE_CODES, ServiceDialect, Written
from integrator.connectors.http.unavailable import reading_metadata
from integrator.connectors.http.upsert import upsert_records
from integrator.connectors.http.writes import write_plans
from integrator.errors import RequestRejected
from integrator.odata.ast import Expr
from integrator.odata.filter import compile_filter, parse_filter, referenced_fields, to_odata

__all__ = [
    "DUPLICATE_CODES",
    "ODataConnector",
    "WritePlan",
    "exists_refusal",
    "record_path",
    "server_filter",
]


def record_path(meta: EntitySetMetadata, key: Mapping[str, Any]) -> str:
    """The path of one record by its key or alternate key (what most dialects use)."""
    return key_path(meta.info.name, key, meta.types(), meta.enum_types)


def exists_refusal(status: int, code: str | None) -> bool:
    """Whether a create was refused because the record exists (``If-None-Match``, POST)."""
    return status in (409, 412) or code in DUPLICATE_CODES


def server_filter(
    meta: EntitySetMetadata, filter: str, dialect: Literal["dataverse", "finops"]
) -> tuple[str | None, Expr | None]:
    """``filter`` all evaluated by the server: lookups renamed, enums qualified."""
    expr = rename_fields(parse_filter(filter), meta.properties)
    enum_types = {meta.properties.get(k, k): v for k, v in meta.enum_types.items()}
    return to_odata(expr, dialect=dialect, enum_types=enum_types), None


class ODataConnector:
    """The connector protocol over an OData service, in the ``dialect`` of that service."""

    capabilities: Capabilities

    def __init__(
        self, client: ODataClient, settings: HttpConnection, dialect: ServiceDialect
    ) -> None:
        self.client = client
        self.settings = settings
        self.dialect = dialect
        self._metadata: ServiceMetadata | None = None
        self._metadata_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        #: entity -> the last read before writing found none of the records stored
        self._loading: dict[str, bool] = {}
        self.capabilities = Capabilities(
            filter_pushdown=True,
            max_page_size=min(self.settings.page_size, dialect.max_page_size),
            max_batch_size=self.settings.batch_size * 10,
            change_tracking=False,
            lookups=True,
            parallel_batches=self.settings.parallel_batches,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.client.base_url)!r})"

    # -- writing ---------------------------------------------------------------------------

    def write_plans(self, meta: EntitySetMetadata, plans: list[WritePlan]) -> Written:
        """Send planned writes (``$batch`` here; a service with bulk messages may override)."""
        return write_plans(self, meta, plans)

    # -- metadata --------------------------------------------------------------------------

    def metadata(self) -> ServiceMetadata:
        """The service's ``$metadata``, fetched once per connector. ``SystemFailing`` when it
        cannot be read (an error after the retries, a body that is not CSDL)."""
        with self._metadata_lock:
            if self._metadata is None:
                client = self.client
                with reading_metadata(str(client.base_url), client.retry.max_attempts):
                    response = client.request(
                        "GET", "$metadata", headers={"Accept": "application/xml"}
                    )
                    self._metadata = parse_metadata(
                        response.content, url=describe_url(response.request.url)
                    )
            return self._metadata

    def entity(self, name: str) -> EntitySetMetadata:
        """Metadata of entity set ``name``; ``RequestRejected`` when the service has none."""
        meta = self.metadata().entity_sets.get(name)
        if meta is None:
            known = ", ".join(sorted(self.metadata().entity_sets)[:20])
            raise RequestRejected(
                f"{self.client.base_url} has no entity set {name!r} (it has: {known})",
                status=404,
                code="unknown-entity",
            )
        return meta

    def describe(self, entity: str) -> EntityInfo:
        """Fields, key and alternate keys of ``entity``, from ``$metadata``."""
        return self.entity(entity).info

    # -- read ------------------------------------------------------------------------------

    def filter_text(self, meta: EntitySetMetadata, filter: str) -> str:
        """``filter`` as this system's ``$filter`` text (lookups renamed, enums qualified)."""
        text, _ = server_filter(meta, filter, self.dialect.name)
        assert text is not None
        return text

    def batch_pool(self) -> ThreadPoolExecutor:
        """The threads that send this connector's batches in parallel (made on first use)."""
        with self._metadata_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.settings.parallel_batches, thread_name_prefix="odata-batch"
                )
            return self._pool

    def page_header(self, page_size: int | None) -> dict[str, str]:
        """``Prefer: odata.maxpagesize`` for ``page_size`` (or the default), capped."""
        size = min(page_size or self.settings.page_size, self.dialect.max_page_size)
        return {"Prefer": f"odata.maxpagesize={size}"}

    def read(
        self,
        entity: str,
        fields: Sequence[str],
        *,
        filter: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[Record]]:
        """Yield pages of ``fields`` of ``entity`` that satisfy ``filter``.

        The filter is evaluated by the server where it can be exactly. Pages follow
        ``@odata.nextLink`` unchanged. Dotted lookups are expanded in the same request.
        """
        meta = self.entity(entity)
        pushed, residual = self.dialect.plan_filter(meta, filter) if filter else (None, None)
        extra = sorted(referenced_fields(residual) - set(fields)) if residual is not None else []
        projection = project(self.metadata(), meta, [*fields, *extra])
        params = {**projection.params(), **self.dialect.query_options()}
        if pushed:
            params["$filter"] = pushed
        selects = compile_filter(residual, case_insensitive=True) if residual is not None else None
        for body in self.client.pages(
            quote(entity, safe=""), params=params, headers=self.page_header(page_size)
        ):
            page = [projection.extract(check_row(row, entity)) for row in body["value"]]
            if selects is not None:
                page = [r for r in page if selects(r)]
                for record in page:
                    for name in extra:
                        del record[name]
            if page:
                yield page

    def read_changes(
        self, entity: str, fields: Sequence[str], *, checkpoint: str | None
    ) -> Iterator[ChangeBatch]:
        """Not offered by this system (``capabilities.change_tracking`` is false)."""
        raise RequestRejected(
            f"{self.client.base_url} does not track changes of {entity}", code="unsupported"
        )

    # -- upsert ----------------------------------------------------------------------------

    def upsert(
        self, entity: str, records: Sequence[Record], *, key: Sequence[str]
    ) -> list[RecordResult]:
        """Insert or update ``records`` matched on ``key``; one result per record, in order.

        See :mod:`.upsert` for how, and what it costs. Records repeating a key already seen in
        this call are written after the first, in order, so the last one wins.
        """
        return upsert_records(self, self.entity(entity), tuple(key), records)

    def assume_new(self, entity: str) -> bool | None:
        """Whether the last read before writing ``entity`` found none of the records stored
        (``None``: nothing read for it yet)."""
        with self._metadata_lock:
            return self._loading.get(entity)

    def set_assume_new(self, entity: str, value: bool) -> None:
        """Remember whether writes to ``entity`` are expected to be creates (see :mod:`.upsert`)."""
        with self._metadata_lock:
            self._loading[entity] = value

    def delete(self, entity: str, keys: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        """Delete records by key in ``$batch`` requests; one result per key, in order."""
        return delete_keys(self, self.entity(entity), keys)

    def close(self) -> None:
        """Stop the batch threads and close pooled connections."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.client.close()
