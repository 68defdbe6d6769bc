"""How the Dataverse Web API writes and filters: upsert by ``PATCH`` on the (alternate) key.

See "Use Upsert to Create or Update a record" and "Prevent create in upsert"
(powerapps-docs: developer/data-platform/webapi/update-delete-entities-using-web-api.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from integrator.connectors.http.batch import BatchOperation
from integrator.connectors.http.connection import HttpConnection
from integrator.connectors.http.connector import exists_refusal, record_path, server_filter
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.plans import WritePlan
from integrator.odata.ast import Expr

__all__ = ["DataverseDialect"]


class DataverseDialect:
    """The :class:`~integrator.connectors.http.service.ServiceDialect` of the Dataverse Web API."""

    name: Literal["dataverse", "finops"] = "dataverse"
    max_page_size: int = 5000

    def __init__(self, settings: HttpConnection) -> None:
        self.settings = settings

    def query_options(self) -> dict[str, str]:
        """None: Dataverse needs no option on every request."""
        return {}

    def plan_filter(self, meta: EntitySetMetadata, filter: str) -> tuple[str | None, Expr | None]:
        """All of ``filter`` goes to the server."""
        return server_filter(meta, filter, self.name)

    def record_path(self, meta: EntitySetMetadata, key: Mapping[str, Any]) -> str:
        """``entityset(key)`` or ``entityset(altkey='...')``."""
        return record_path(meta, key)

    def write_operation(self, meta: EntitySetMetadata, plan: WritePlan) -> BatchOperation:
        """``PATCH entityset(key='...')``: Dataverse's upsert by key or alternate key."""
        path = self.record_path(meta, plan.key)
        headers = {}
        if plan.create_only:
            headers["If-None-Match"] = "*"  # create only: 412 if it exists after all
        if not self.settings.skip_unchanged:
            # Without the stored rows, only the status tells a create (201) from an update (200).
            headers["Prefer"] = "return=representation"
            first_key = next(iter(plan.key))
            path += f"?$select={meta.properties.get(first_key, first_key)}"
        return BatchOperation.json("PATCH", path, dict(plan.payload), headers)

    def exists_refusal(self, status: int, code: str | None) -> bool:
        """Whether a create was refused because the record exists (412 for ``If-None-Match``)."""
        return exists_refusal(status, code)

    def fallback(self, plan: WritePlan, status: int, code: str | None) -> WritePlan | None:
        """None: an upsert has no other request to try."""
        return None
