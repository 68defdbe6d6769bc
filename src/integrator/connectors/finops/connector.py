"""The F&O OData connector: ``/data/`` entity sets, companies, enums, paging at 10000.

Entities are described from F&O's ``/Metadata`` service, not from ``$metadata`` (see
:mod:`.metadata`). Records carry ``dataAreaId`` (part of every company-specific entity key); with
``cross_company`` (the default) every request asks for ``cross-company=true`` so all companies
are read and written, as an integration must. Enum values travel as their names (``"Yes"``) and
are written in filters as qualified literals (``Microsoft.Dynamics.DataEntities.NoYes'Yes'``).

How it writes and filters is its dialect (:mod:`.dialect`).
"""

from __future__ import annotations

import httpx

from integrator.connectors.finops.config import FinOpsConfig
from integrator.connectors.finops.dialect import FinOpsDialect
from integrator.connectors.finops.metadata import FinOpsMetadata, metadata_root
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.connector import ODataConnector
from integrator.connectors.http.metadata import EntitySetMetadata, ServiceMetadata
from integrator.connectors.http.settings import ConnectorSettings

__all__ = ["FinOpsConnector"]


class FinOpsConnector(ODataConnector):
    """The connector protocol over an F&O OData root (``.../data/``)."""

    def __init__(
        self,
        client: ODataClient,
        settings: ConnectorSettings | None = None,
        *,
        cross_company: bool = True,
        metadata_url: str | None = None,
        string_lengths: bool = True,
    ) -> None:
        settings = settings or ConnectorSettings(page_size=10000)
        super().__init__(client, settings, FinOpsDialect(settings, cross_company=cross_company))
        self.cross_company = cross_company
        self.catalog = FinOpsMetadata(
            client,
            metadata_url or metadata_root(str(client.base_url)),
            string_lengths=string_lengths,
        )

    @classmethod
    def from_config(
        cls, config: FinOpsConfig, *, transport: httpx.BaseTransport | None = None
    ) -> FinOpsConnector:
        """A connector for ``config`` (``transport`` replaces the network, for tests)."""
        return cls(
            config.client(transport),
            config.settings(),
            cross_company=config.cross_company,
            metadata_url=config.metadata_url,
            string_lengths=config.string_lengths,
        )

    def metadata(self) -> ServiceMetadata:
        """The entities described so far (F&O is described entity by entity, from
        ``/Metadata``: see :mod:`integrator.connectors.finops.metadata`)."""
        return self.catalog.service()

    def entity(self, name: str) -> EntitySetMetadata:
        """Entity set ``name`` from F&O's ``/Metadata`` service (cached for the connector's
        life); ``RequestRejected`` when F&O has no such public entity."""
        return self.catalog.entity(name)
