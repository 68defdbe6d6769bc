"""The Dataverse Web API connector (Dynamics 365 Sales and CDS), ``kind: dataverse``."""

from integrator.connectors.configuration import ConnectorKind
from integrator.connectors.dataverse.config import DataverseConnection
from integrator.connectors.dataverse.connector import DataverseConnector
from integrator.connectors.http.clients import odata_factory

__all__ = ["KIND", "DataverseConnection", "DataverseConnector"]

#: ``kind: dataverse``, as the registry lists it
KIND = ConnectorKind(DataverseConnection, odata_factory(DataverseConnector))
