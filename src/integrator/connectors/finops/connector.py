"""The F&O OData connector: ``/data/`` entity sets, companies, enums, paging at 10000.

Entities are described from F&O's ``/Metadata`` service, not from ``$metadata`` (see
:mod:`.metadata`). Records carry ``dataAreaId`` (part of every company-specific entity key); with
``cross_company`` (the default) every request asks for ``cross-company=true`` so all companies
are read and written, as an integration must. Enum values travel as their names (``"Yes"``) and
are written in filters as qualified literals (``Microsoft.Dynamics.DataEntities.NoYes'Yes'``).

How it writes and filters is its dialect (:mod:`.dialect`).
"""

from __future__ import annotations

from integrator.connectors.finops.config import FinOpsConnection
from integrator.connectors.finops.dialect import FinOpsDialect
from integrator.connectors.finops.metadata import FinOpsMetadata, metadata_root
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.connector import ODataConnector
from integrator.connectors.http.metadata import EntitySetMetadata, ServiceMetadata
from integrator.connectors.http.unavailable import reading_metadata

__all__ = ["FinOpsConnector"]


class FinOpsConnector(ODataConnector):
    """The connector protocol over an F&O OData root (``.../data/``)."""

    def __init__(self, client: ODataClient, connection: FinOpsConnection | None = None) -> None:
        """A connector over ``client`` with ``connection``'s paging, batching, company and
        metadata settings (the defaults when ``None``); ``KIND``'s factory builds both."""
        connection = connection or FinOpsConnection(url=str(client.base_url))
        options = connection.finops
        super().__init__(
            client, connection, FinOpsDialect(connection, cross_company=options.cross_company)
        )
        self.cross_company = options.cross_company
        self.catalog = FinOpsMetadata(
            client,
            options.metadata_url or metadata_root(str(client.base_url)),
            string_lengths=options.string_lengths,
        )

    def metadata(self) -> ServiceMetadata:
        """The entities described so far (F&O is described entity by entity, from
        ``/Metadata``: see :mod:`integrator.connectors.finops.metadata`)."""
        return self.catalog.service()

    def entity(self, name: str) -> EntitySetMetadata:
        """Entity set ``name`` from F&O's ``/Metadata`` service (cached for the connector's
        life); ``RequestRejected`` when F&O has no such public entity, ``SystemFailing`` when
        the metadata cannot be read."""
        with reading_metadata(str(self.client.base_url), self.client.retry.max_attempts):
            return self.catalog.entity(name)
