"""Configuration of an F&O OData connection."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, model_validator

from integrator.connectors.http.config import ODataConnectionConfig

__all__ = ["FinOpsConfig", "check_same_origin"]


def check_same_origin(url: str, metadata_url: str) -> None:
    """``ValueError`` unless ``metadata_url`` is an http(s) URL with ``url``'s scheme, host and
    port: the connector sends it the same credentials."""
    service, metadata = urlsplit(url), urlsplit(metadata_url)
    if metadata.scheme not in ("http", "https") or (metadata.scheme, metadata.netloc) != (
        service.scheme,
        service.netloc,
    ):
        raise ValueError(
            f"metadata_url {metadata_url!r} must be on the same host as the service ({url!r})"
        )


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

    @model_validator(mode="after")
    def _metadata_on_the_same_host(self) -> FinOpsConfig:
        if self.metadata_url is not None:
            check_same_origin(self.url, self.metadata_url)
        return self
