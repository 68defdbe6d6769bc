"""The Dataverse Web API connector (Dynamics 365 Sales, CDS).

Reads page by ``Prefer: odata.maxpagesize`` and ``@odata.nextLink``, with dotted lookups
expanded in the same request; upserts are ``PATCH entityset(altkey='...')`` operations in
``$batch`` requests; changes come from change tracking (see :mod:`.changes`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar, Literal

import httpx

from integrator.connectors.base import Capabilities, ChangeBatch, EntityInfo
from integrator.connectors.dataverse.changes import read_changes
from integrator.connectors.dataverse.config import DataverseConfig
from integrator.connectors.dataverse.metadata import EntityDefinitionsReader, apply_definitions
from integrator.connectors.http.batch import BatchOperation
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.connector import ConnectorSettings, ODataConnector
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.writes import WritePlan

__all__ = ["DataverseConnector"]


class DataverseConnector(ODataConnector):
    """The connector protocol over a Dataverse Web API root."""

    dialect: ClassVar[Literal["dataverse", "finops"]] = "dataverse"
    max_page_size: ClassVar[int] = 5000

    def __init__(self, client: ODataClient, settings: ConnectorSettings | None = None) -> None:
        super().__init__(client, settings)
        self.capabilities = Capabilities(
            filter_pushdown=True,
            max_page_size=self.capabilities.max_page_size,
            max_batch_size=self.capabilities.max_batch_size,
            change_tracking=True,
            lookups=True,
            parallel_batches=self.settings.parallel_batches,
        )
        self._definitions = EntityDefinitionsReader(client)

    def describe(self, entity: str) -> EntityInfo:
        """Fields, keys and lookups from ``$metadata``; required and read-only fields,
        lengths, option sets and alternate keys from ``EntityDefinitions`` (see
        :mod:`.metadata`), read once per entity for this connector."""
        meta = self.entity(entity)
        logical_name = meta.entity_type.rpartition(".")[2]
        return apply_definitions(meta, self._definitions.definitions(logical_name))

    @classmethod
    def from_config(
        cls, config: DataverseConfig, *, transport: httpx.BaseTransport | None = None
    ) -> DataverseConnector:
        """A connector for ``config`` (``transport`` replaces the network, for tests)."""
        return cls(config.client(transport), config.settings())

    def write_operation(self, meta: EntitySetMetadata, plan: WritePlan) -> BatchOperation:
        """``PATCH entityset(key='...')``: Dataverse's upsert by key or alternate key."""
        path = self.record_path(meta, plan.key)
        headers = {}
        if plan.create_only:
            headers["If-None-Match"] = "*"  # create only: 412 if it exists after all
        if not self.settings.skip_unchanged:
            # Without the stored rows, only the status tells a create (201) from an update (200).
            headers["Prefer"] = "return=representation"
            first_key = next(iter(plan.key))
            path += f"?$select={meta.properties.get(first_key, first_key)}"
        return BatchOperation.json("PATCH", path, dict(plan.payload), headers)

    def read_changes(
        self, entity: str, fields: Sequence[str], *, checkpoint: str | None
    ) -> Iterator[ChangeBatch]:
        """Changes since ``checkpoint`` (a delta link) by change tracking; see :mod:`.changes`."""
        return read_changes(self, entity, fields, checkpoint=checkpoint)
