"""The Dataverse Web API connector (Dynamics 365 Sales, CDS).

Reads page by ``Prefer: odata.maxpagesize`` and ``@odata.nextLink``, with dotted lookups
expanded in the same request; upserts go as ``UpsertMultiple``/``CreateMultiple`` where the
table offers them (:mod:`.bulk`) and as ``PATCH entityset(altkey='...')`` operations in
``$batch`` requests where not; changes come from change tracking (see :mod:`.changes`); full
reads can be cut into ``createdon`` ranges (see :mod:`.ranges`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from integrator.connectors.base import Capabilities, ChangeBatch, EntityInfo, RangePage
from integrator.connectors.dataverse import ranges
from integrator.connectors.dataverse.bulk import BulkWriter
from integrator.connectors.dataverse.changes import read_changes
from integrator.connectors.dataverse.config import DataverseConnection
from integrator.connectors.dataverse.dialect import DataverseDialect
from integrator.connectors.dataverse.metadata import EntityDefinitionsReader, apply_definitions
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.connector import ODataConnector
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.plans import WritePlan
from integrator.connectors.http.service import Written
from integrator.connectors.http.unavailable import reading_metadata

__all__ = ["DataverseConnector"]


class DataverseConnector(ODataConnector):
    """The connector protocol over a Dataverse Web API root."""

    def __init__(self, client: ODataClient, connection: DataverseConnection | None = None) -> None:
        """A connector over ``client`` with ``connection``'s paging, batching and bulk-message
        settings (the defaults when ``None``); ``KIND``'s factory builds both."""
        connection = connection or DataverseConnection(url=str(client.base_url))
        super().__init__(client, connection, DataverseDialect(connection))
        self.capabilities = Capabilities(
            filter_pushdown=True,
            max_page_size=self.capabilities.max_page_size,
            max_batch_size=self.capabilities.max_batch_size,
            change_tracking=True,
            lookups=True,
            parallel_batches=self.settings.parallel_batches,
            key_ranges=True,
        )
        self._bulk = BulkWriter(self, connection.bulk_messages)
        self._definitions = EntityDefinitionsReader(client)

    def describe(self, entity: str) -> EntityInfo:
        """Fields, keys and lookups from ``$metadata``; required and read-only fields,
        lengths, option sets and alternate keys from ``EntityDefinitions`` (see
        :mod:`.metadata`), read once per entity for this connector."""
        meta = self.entity(entity)
        logical_name = meta.entity_type.rpartition(".")[2]
        client = self.client
        with reading_metadata(str(client.base_url), client.retry.max_attempts, rejected=False):
            definitions = self._definitions.definitions(logical_name)
        return apply_definitions(meta, definitions)

    def write_plans(self, meta: EntitySetMetadata, plans: list[WritePlan]) -> Written:
        """``UpsertMultiple``/``CreateMultiple`` where the table offers them (unless the
        connection says ``bulk_messages: never``), ``$batch`` where not; see :mod:`.bulk`."""
        return self._bulk.write(meta, plans)

    def read_changes(
        self, entity: str, fields: Sequence[str], *, checkpoint: str | None
    ) -> Iterator[ChangeBatch]:
        """Changes since ``checkpoint`` (a delta link) by change tracking; see :mod:`.changes`."""
        return read_changes(self, entity, fields, checkpoint=checkpoint)

    def key_bounds(self, entity: str, every: int) -> tuple[str, list[Any]] | None:
        """``("createdon", bounds)`` cutting ``entity`` into time windows of about ``every``
        records each (by ``RetrieveTotalRecordCount``'s estimate); ``None`` without
        ``createdon``. See :mod:`.ranges`."""
        return ranges.key_bounds(self, entity, every)

    def read_range(
        self,
        entity: str,
        fields: Sequence[str],
        *,
        lower: Any,
        upper: Any,
        after: Any = None,
    ) -> Iterator[RangePage]:
        """Pages of the records with ``lower <= createdon < upper``, after ``after`` when
        given, in ``createdon`` order, each page ending on a whole ``createdon``; records as
        ``read`` gives them. See :mod:`.ranges`."""
        return ranges.read_range(self, entity, fields, lower=lower, upper=upper, after=after)

    def change_checkpoint(self, entity: str, fields: Sequence[str] | None = None) -> str | None:
        """A change-tracking delta link taken now, from which ``read_changes`` of ``fields``
        (any fields when ``None``) gives what changes from now on; see :mod:`.ranges`."""
        return ranges.change_checkpoint(self, entity, fields)
