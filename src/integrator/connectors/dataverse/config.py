"""Configuration of a Dataverse Web API connection (Sales or CDS)."""

from __future__ import annotations

from pydantic import Field

from integrator.connectors.http.config import ODataConnectionConfig

__all__ = ["DataverseConfig"]


class DataverseConfig(ODataConnectionConfig):
    """``url`` is the Web API root, e.g. ``https://org.crm.dynamics.com/api/data/v9.2/``."""

    page_size: int = Field(5000, ge=1, le=5000)
