"""How F&O OData writes and filters: ``POST``/``PATCH`` by entity key, every company, fallbacks.

F&O has no upsert: a new record is created with ``POST`` to the entity set, an existing one
updated with ``PATCH`` by its entity key (``CustomersV2(dataAreaId='usmf',CustomerAccount='X')``).
The stored rows read before writing tell which is which; when a create is refused because the
record exists after all (a concurrent writer, or a resent batch whose first answer was lost) it
is sent again as an update, and an update of a record deleted meanwhile as a create.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal
from urllib.parse import quote

from integrator.connectors.base import Outcome
from integrator.connectors.finops.filters import exact_part
from integrator.connectors.http.batch import BatchOperation
from integrator.connectors.http.connection import HttpConnection
from integrator.connectors.http.connector import exists_refusal, record_path
from integrator.connectors.http.fields import rename_fields
from integrator.connectors.http.keys import key_path
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.plans import WritePlan
from integrator.connectors.http.service import DUPLICATE_CODES
from integrator.odata.ast import Expr
from integrator.odata.filter import parse_filter, to_odata

__all__ = ["FinOpsDialect"]


class FinOpsDialect:
    """The :class:`~integrator.connectors.http.service.ServiceDialect` of F&O OData."""

    name: Literal["dataverse", "finops"] = "finops"
    max_page_size: int = 10000

    def __init__(self, settings: HttpConnection, *, cross_company: bool = True) -> None:
        self.settings = settings
        self.cross_company = cross_company

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
            # F&O answers a create with the whole record unless asked not to (OData's
            # ``Prefer: return=minimal``: 204); the record read before writing already knows
            # the outcome, so the body would go unread (without that read, the 201 tells it).
            headers = {"Prefer": "return=minimal"} if self.settings.skip_unchanged else None
            return BatchOperation.json("POST", path, dict(plan.payload), headers)
        path = key_path(meta.info.name, plan.key, meta.types(), meta.enum_types) + self._suffix()
        payload = {k: v for k, v in plan.payload.items() if k not in plan.key}
        return BatchOperation.json("PATCH", path, payload)

    def record_path(self, meta: EntitySetMetadata, key: Mapping[str, Any]) -> str:
        """The record's path by entity key, in every company (``cross-company``)."""
        return record_path(meta, key) + self._suffix()

    def exists_refusal(self, status: int, code: str | None) -> bool:
        """Whether a create was refused because the record exists."""
        return exists_refusal(status, code)

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
