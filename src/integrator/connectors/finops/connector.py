"""The F&O OData connector: ``/data/`` entity sets, companies, enums, paging at 10000.

Records carry ``dataAreaId`` (part of every company-specific entity key); with
``cross_company`` (the default) every request asks for ``cross-company=true`` so all companies
are read and written, as an integration must. Enum values travel as their names (``"Yes"``) and
are written in filters as qualified literals (``Microsoft.Dynamics.DataEntities.NoYes'Yes'``).

How it writes and filters is its dialect (:mod:`.dialect`).
"""

from __future__ import annotations

import httpx

from integrator.connectors.finops.config import FinOpsConfig
from integrator.connectors.finops.dialect import FinOpsDialect
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.connector import ODataConnector
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
    ) -> None:
        settings = settings or ConnectorSettings(page_size=10000)
        super().__init__(client, settings, FinOpsDialect(settings, cross_company=cross_company))
        self.cross_company = cross_company

    @classmethod
    def from_config(
        cls, config: FinOpsConfig, *, transport: httpx.BaseTransport | None = None
    ) -> FinOpsConnector:
        """A connector for ``config`` (``transport`` replaces the network, for tests)."""
        return cls(config.client(transport), config.settings(), cross_company=config.cross_company)
