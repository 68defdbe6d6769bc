"""Configuration of an F&O OData connection."""

from __future__ import annotations

from pydantic import Field

from integrator.connectors.http.config import ODataConnectionConfig

__all__ = ["FinOpsConfig"]


class FinOpsConfig(ODataConnectionConfig):
    """``url`` is the OData root, e.g. ``https://org.operations.dynamics.com/data/``."""

    page_size: int = Field(10000, ge=1, le=10000)
    #: read and write every company (``cross-company=true``), not just the user's default one
    cross_company: bool = True
    #: F&O's metadata service; by default ``/Metadata/`` beside ``url`` (``.../data/``)
    metadata_url: str | None = None
    #: read string lengths from ``$metadata`` (tens of MB on a real environment, once a run);
    #: without them ``Truncate`` needs an explicit ``length``
    string_lengths: bool = True
