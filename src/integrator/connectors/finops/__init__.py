"""The F&O (Finance and Operations) OData connector."""

from integrator.connectors.finops.config import FinOpsConfig
from integrator.connectors.finops.connector import FinOpsConnector

__all__ = ["FinOpsConfig", "FinOpsConnector"]
