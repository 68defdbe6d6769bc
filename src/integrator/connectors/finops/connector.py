"""The F&O OData connector: ``/data/`` entity sets, companies, enums, paging at 10000.

Entities are described from F&O's ``/Metadata`` service, not from ``$metadata`` (see
:mod:`.metadata`). Records carry ``dataAreaId`` (part of every company-specific entity key); with
``cross_company`` (the default) every request asks for ``cross-company=true`` so all companies
are read and written, as an integration must. Enum values travel as their names (``"Yes"``) and
are written in filters as qualified literals (``Microsoft.Dynamics.DataEntities.NoYes'Yes'``).

F&O has no upsert: a new record is created with ``POST`` to the entity set, an existing one
updated with ``PATCH`` by its entity key (``CustomersV2(dataAreaId='usmf',CustomerAccount='X')``).
The stored rows read before writing tell which is which; when a create is refused because the
record exists after all (a concurrent writer, or a resent batch whose first answer was lost) it
is sent again as an update, and an update of a record deleted meanwhile as a create.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx

from integrator.connectors.base import Outcome
from integrator.connectors.finops.config import FinOpsConfig
from integrator.connectors.finops.filters import exact_part
from integrator.connectors.finops.metadata import FinOpsMetadata, metadata_root
from integrator.connectors.http.batch import BatchOperation
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.connector import (
    DUPLICATE_CODES,
    ConnectorSettings,
    ODataConnector,
)
from integrator.connectors.http.fields import rename_fields
from integrator.connectors.http.keys import key_path
from integrator.connectors.http.metadata import EntitySetMetadata, ServiceMetadata
from integrator.connectors.http.writes import WritePlan
from integrator.odata.ast import Expr
from integrator.odata.filter import parse_filter, to_odata

__all__ = ["FinOpsConnector"]


class FinOpsConnector(ODataConnector):
    """The connector protocol over an F&O OData root (``.../data/``)."""

    dialect: ClassVar[Literal["dataverse", "finops"]] = "finops"
    max_page_size: ClassVar[int] = 10000

    def __init__(
        self,
        client: ODataClient,
        settings: ConnectorSettings | None = None,
        *,
        cross_company: bool = True,
        metadata_url: str | None = None,
        string_lengths: bool = True,
    ) -> None:
        super().__init__(client, settings or ConnectorSettings(page_size=10000))
        self.cross_company = cross_company
        self.catalog = FinOpsMetadata(
            client,
            metadata_url or metadata_root(str(client.base_url)),
            string_lengths=string_lengths,
        )

    @classmethod
    def from_config(
        cls, config: FinOpsConfig, *, transport: httpx.BaseTransport | None = None
    ) -> FinOpsConnector:
        """A connector for ``config`` (``transport`` replaces the network, for tests)."""
        return cls(
            config.client(transport),
            config.settings(),
            cross_company=config.cross_company,
            metadata_url=config.metadata_url,
            string_lengths=config.string_lengths,
        )

    def metadata(self) -> ServiceMetadata:
        """The entities described so far (F&O is described entity by entity, from
        ``/Metadata``: see :mod:`integrator.connectors.finops.metadata`)."""
        return self.catalog.service()

    def entity(self, name: str) -> EntitySetMetadata:
        """Entity set ``name`` from F&O's ``/Metadata`` service (cached for the connector's
        life); ``RequestRejected`` when F&O has no such public entity."""
        return self.catalog.entity(name)

    def query_options(self) -> dict[str, str]:
        """``cross-company=true`` when configured."""
        return {"cross-company": "true"} if self.cross_company else {}

    def plan_filter(self, meta: EntitySetMetadata, filter: str) -> tuple[str | None, Expr | None]:
        """Push down the exact part; check ``contains``/``startswith``/``endswith`` here.

        F&O has no string functions: they are written as ``eq`` with ``*`` wildcards, and a
        ``*`` inside a value is a wildcard too, so neither can be pushed down exactly. The
        server gets every ``and``-ed condition that is exact; each record is then checked
        against the whole filter (case-insensitively, as F&O compares strings).
        """
        expr = rename_fields(parse_filter(filter), meta.properties)
        pushed = exact_part(expr)
        if pushed is None:
            return None, expr
        enum_types = {meta.properties.get(k, k): v for k, v in meta.enum_types.items()}
        text = to_odata(pushed, dialect="finops", enum_types=enum_types)
        return text, None if pushed == expr else expr

    def _suffix(self) -> str:
        return "?cross-company=true" if self.cross_company else ""

    def write_operation(self, meta: EntitySetMetadata, plan: WritePlan) -> BatchOperation:
        """``POST`` to create, ``PATCH`` by entity key to update."""
        if plan.action == "insert":
            path = quote(meta.info.name, safe="") + self._suffix()
            return BatchOperation.json("POST", path, dict(plan.payload))
        path = key_path(meta.info.name, plan.key, meta.types(), meta.enum_types) + self._suffix()
        payload = {k: v for k, v in plan.payload.items() if k not in plan.key}
        return BatchOperation.json("PATCH", path, payload)

    def record_path(self, meta: EntitySetMetadata, key: Mapping[str, Any]) -> str:
        """The record's path by entity key, in every company (``cross-company``)."""
        return super().record_path(meta, key) + self._suffix()

    def fallback(self, plan: WritePlan, status: int, code: str | None) -> WritePlan | None:
        """Create refused as a duplicate → update; update of a missing record → create."""
        known = self.settings.skip_unchanged
        if plan.action == "insert" and (status in (409, 412) or code in DUPLICATE_CODES):
            return replace(
                plan, action="update", outcome=plan.outcome if known else Outcome.UPDATED
            )
        if plan.action == "update" and status == 404:
            return replace(
                plan,
                action="insert",
                payload={**plan.key, **plan.payload},
                outcome=plan.outcome if known else Outcome.INSERTED,
            )
        return None
