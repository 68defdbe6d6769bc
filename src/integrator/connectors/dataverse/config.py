"""``kind: dataverse`` in connections.yaml: a Dataverse Web API root (Sales or CDS)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from integrator.connectors.http.connection import HttpConnection

__all__ = ["BulkMessages", "DataverseConnection"]

#: ``auto``: write with ``UpsertMultiple``/``CreateMultiple`` where the table offers them;
#: ``never``: always ``$batch``
BulkMessages = Literal["auto", "never"]


class DataverseConnection(HttpConnection):
    """``url`` is the Web API root, e.g. ``https://org.crm.dynamics.com/api/data/v9.2/``."""

    kind: Literal["dataverse"] = "dataverse"
    #: records per page read (Dataverse pages at most 5000)
    page_size: int = Field(5000, ge=1, le=5000)
    bulk_messages: BulkMessages = "auto"
