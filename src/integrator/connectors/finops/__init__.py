"""The F&O (Finance and Operations) OData connector, ``kind: finops``."""

from integrator.connectors.configuration import ConnectorKind
from integrator.connectors.finops.config import FinOpsConnection, FinOpsOptions
from integrator.connectors.finops.connector import FinOpsConnector
from integrator.connectors.http.clients import odata_factory

__all__ = ["KIND", "FinOpsConnection", "FinOpsConnector", "FinOpsOptions"]

#: ``kind: finops``, as the registry lists it
KIND = ConnectorKind(FinOpsConnection, odata_factory(FinOpsConnector))
