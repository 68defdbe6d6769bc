"""The Dataverse Web API connector (Dynamics 365 Sales and CDS)."""

from integrator.connectors.dataverse.config import DataverseConfig
from integrator.connectors.dataverse.connector import DataverseConnector

__all__ = ["DataverseConfig", "DataverseConnector"]
