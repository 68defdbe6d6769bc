"""``kind: finops`` in connections.yaml: an F&O OData root and how its metadata is read."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from integrator.connectors.configuration import StrictModel
from integrator.connectors.http.connection import HttpConnection

__all__ = ["FinOpsConnection", "FinOpsOptions", "check_same_origin"]


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


class FinOpsOptions(StrictModel):
    """How the F&O connector reads F&O's metadata and which companies it works in."""

    #: F&O's metadata service; ``None``: ``/Metadata/`` beside the OData root ``url``
    metadata_url: str | None = None
    #: read string lengths from ``$metadata`` once a run (tens of MB on a real environment);
    #: ``false``: no lengths, so ``Truncate`` needs an explicit ``length``
    string_lengths: bool = True
    #: read and write every company (``cross-company=true``), not just the user's default one
    cross_company: bool = True


class FinOpsConnection(HttpConnection):
    """``url`` is the OData root, e.g. ``https://org.operations.dynamics.com/data/``."""

    kind: Literal["finops"] = "finops"
    #: records per page read (F&O pages at most 10000)
    page_size: int = Field(10000, ge=1, le=10000)
    finops: FinOpsOptions = FinOpsOptions()

    @model_validator(mode="after")
    def _metadata_on_the_same_host(self) -> FinOpsConnection:
        if self.finops.metadata_url is not None:
            check_same_origin(self.url, self.finops.metadata_url)
        return self
