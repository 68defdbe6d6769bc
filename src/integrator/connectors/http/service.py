"""The two small protocols the generic OData code is written against.

- :class:`ServiceDialect`: what differs between the OData services (Dataverse upserts with
  ``PATCH`` by alternate key; F&O creates with ``POST`` and updates with ``PATCH`` by entity key,
  in every company, with fallbacks). ``connectors/dataverse`` and ``connectors/finops`` each
  provide one; this package never imports them.
- :class:`ODataService`: what the planners and writers (:mod:`.upsert`, :mod:`.writes`,
  :mod:`.delete`, :mod:`.lookup`) need of a connector. :class:`~.connector.ODataConnector`
  satisfies it; naming the protocol instead of the class keeps those modules free of an import
  of the connector, so the package has no import cycles.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, Protocol

from integrator.connectors.base import RecordResult
from integrator.connectors.http.batch import BatchOperation
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.connection import HttpConnection
from integrator.connectors.http.metadata import EntitySetMetadata, ServiceMetadata
from integrator.connectors.http.plans import WritePlan
from integrator.odata.ast import Expr

__all__ = ["DUPLICATE_CODES", "ODataService", "ServiceDialect", "Written"]

#: error codes meaning "a record with this key exists" (Dataverse's, which the sandbox also uses)
DUPLICATE_CODES = frozenset({"0x80040237"})

#: ``(index, result)`` for each plan written, and the ``create_only`` plans refused because the
#: record exists (handed back to be read and planned again)
Written = tuple[list[tuple[int, RecordResult]], list[WritePlan]]


class ServiceDialect(Protocol):
    """How one kind of OData service names, writes and filters records."""

    #: the ``$filter`` dialect (:func:`integrator.odata.filter.to_odata`)
    name: Literal["dataverse", "finops"]
    #: the most records the service returns in one page
    max_page_size: int

    def query_options(self) -> dict[str, str]:
        """Query options every request on an entity set carries (F&O's ``cross-company``)."""
        ...

    def record_path(self, meta: EntitySetMetadata, key: Mapping[str, Any]) -> str:
        """The path of one record by its key or alternate key."""
        ...

    def write_operation(self, meta: EntitySetMetadata, plan: WritePlan) -> BatchOperation:
        """The request that writes ``plan``."""
        ...

    def exists_refusal(self, status: int, code: str | None) -> bool:
        """Whether a create was refused because the record exists."""
        ...

    def fallback(self, plan: WritePlan, status: int, code: str | None) -> WritePlan | None:
        """A different write to try when ``plan`` was refused with ``status``/``code``."""
        ...

    def plan_filter(self, meta: EntitySetMetadata, filter: str) -> tuple[str | None, Expr | None]:
        """``(server $filter text, expression to check each record with here)``."""
        ...


class ODataService(Protocol):
    """A connector as the planners and writers see it."""

    client: ODataClient
    settings: HttpConnection
    dialect: ServiceDialect

    def metadata(self) -> ServiceMetadata:
        """The service's metadata, fetched once."""
        ...

    def entity(self, name: str) -> EntitySetMetadata:
        """Metadata of entity set ``name``."""
        ...

    def batch_pool(self) -> ThreadPoolExecutor:
        """The threads that send batches in parallel."""
        ...

    def page_header(self, page_size: int | None) -> dict[str, str]:
        """``Prefer: odata.maxpagesize`` for ``page_size`` (or the default), capped."""
        ...

    def assume_new(self, entity: str) -> bool | None:
        """Whether the last read before writing ``entity`` found none of the records stored
        (``None``: nothing read for it yet)."""
        ...

    def set_assume_new(self, entity: str, value: bool) -> None:
        """Remember whether writes to ``entity`` are expected to be creates."""
        ...

    def write_plans(self, meta: EntitySetMetadata, plans: list[WritePlan]) -> Written:
        """Send ``plans``; see :func:`integrator.connectors.http.writes.write_plans`."""
        ...
