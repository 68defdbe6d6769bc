"""Writing through Dataverse's bulk messages where the table offers them, ``$batch`` where not.

Microsoft documents ``CreateMultiple``/``UpsertMultiple`` as the highest-throughput way to write
standard tables ("Use bulk operation messages", powerapps-docs:
developer/data-platform/bulk-operations.md). Planned writes go ``batch_size`` targets to a
request (1000 by default, the documented starting point), ``parallel_batches`` at a time:

- create-only plans (an initial load, nothing read first) as ``CreateMultiple``; a record that
  exists after all refuses the whole request, whose records are then handed back to be read
  and planned again (as create-only writes refused because the record exists are), and so go
  out as ``UpsertMultiple`` below;
- all other plans as ``UpsertMultiple``, each target naming its record by ``@odata.id``
  (``contacts(msdynce_contactnumber='X')``, the alternate key) as the Web API reference shows.
  It answers 204 with no per-record result, so the counts come from the stored rows read before
  writing (which is why bulk messages are only used with ``skip_unchanged``).

On a standard table the request is all or nothing, and the error does not say which record
failed. A refused request is therefore re-sent through ``$batch`` with continue-on-error (the
fallback the same page recommends): every record then gets its own outcome and message, at the
cost of one more request for that chunk (the refused one). When that ``$batch`` writes every
record, the refusal was the message's rather than a record's, and the table is written through
``$batch`` from then on. Transient answers (429 with ``Retry-After``, 5xx, dropped connection)
are the client's to retry, as for any request.

Whether a table offers a message is asked the documented way ("Availability with standard
tables"): ``GET sdkmessagefilters?$filter=sdkmessageid/name eq 'CreateMultiple' and
primaryobjecttypecode eq 'contact'``, both messages in one plain ``GET`` (the two names joined
by ``or``, ``$expand=sdkmessageid($select=name)`` telling the rows apart), once per table per
connector. ``$metadata`` cannot tell: it declares the actions bound to
``Collection(mscrm.crmbaseentity)``, that is for every table alike, while "not all standard
tables support these messages". A catalogue that cannot be read (no privilege) counts as "not
offered".
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from urllib.parse import quote, unquote, urlencode

import orjson

from integrator.connectors.base import Outcome, RecordResult
from integrator.connectors.dataverse.config import BulkMessages
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.plans import WritePlan
from integrator.connectors.http.service import ODataService, Written
from integrator.connectors.http.writes import write_plans
from integrator.errors import RequestRejected, RetriableError

__all__ = ["BulkWriter"]

_NAMESPACE = "Microsoft.Dynamics.CRM"
_CREATE = "CreateMultiple"
_UPSERT = "UpsertMultiple"
_MESSAGES = (_CREATE, _UPSERT)
_JSON = {"Content-Type": "application/json; charset=utf-8"}


class BulkWriter:
    """Writes planned records with ``CreateMultiple``/``UpsertMultiple`` where offered."""

    def __init__(self, service: ODataService, bulk_messages: BulkMessages = "auto") -> None:
        self.service = service
        self.bulk_messages = bulk_messages
        self._lock = threading.Lock()
        #: entity set -> the bulk messages its table offers (and is still written with)
        self._offered: dict[str, set[str]] = {}

    def write(self, meta: EntitySetMetadata, plans: list[WritePlan]) -> Written:
        """Write ``plans``: ``(index, result)`` per plan, and the create-only plans refused
        because the record exists (as :func:`~integrator.connectors.http.writes.write_plans`)."""
        settings = self.service.settings
        if self.bulk_messages == "never" or not settings.skip_unchanged or not plans:
            return write_plans(self.service, meta, plans)
        offered = self.offered(meta)
        size = settings.batch_size
        chunks: list[tuple[str | None, list[WritePlan]]] = []
        for create_only in (True, False):
            group = [p for p in plans if p.create_only is create_only]
            message = _CREATE if create_only else _UPSERT
            for start in range(0, len(group), size):
                chunks.append(
                    (message if message in offered else None, group[start : start + size])
                )
        if len(chunks) == 1 or settings.parallel_batches == 1:
            outputs = [self._chunk(meta, message, chunk) for message, chunk in chunks]
        else:
            pool = self.service.batch_pool()
            futures: list[Future[Written]] = [
                pool.submit(self._chunk, meta, message, chunk) for message, chunk in chunks
            ]
            outputs = [future.result() for future in futures]
        return (
            [item for done, _ in outputs for item in done],
            [plan for _, conflicts in outputs for plan in conflicts],
        )

    def offered(self, meta: EntitySetMetadata) -> set[str]:
        """The bulk messages ``meta``'s table offers, asked once (see the module docstring)."""
        name = meta.info.name
        with self._lock:
            known = self._offered.get(name)
        if known is not None:
            return known
        table = meta.entity_type.rpartition(".")[2]
        found: set[str] = set()
        try:
            body = self.service.client.get_json(_catalogue_path(table))
        except RequestRejected:
            body = {}  # the catalogue is not readable here: write through $batch
        value = body.get("value")
        for row in value if isinstance(value, list) else []:
            message = row.get("sdkmessageid") if isinstance(row, dict) else None
            offered_name = message.get("name") if isinstance(message, dict) else None
            if offered_name in _MESSAGES:
                found.add(offered_name)
        with self._lock:
            return self._offered.setdefault(name, found)

    def _chunk(
        self, meta: EntitySetMetadata, message: str | None, plans: list[WritePlan]
    ) -> Written:
        if message is None:
            return write_plans(self.service, meta, plans)
        client = self.service.client
        targets = [self._target(meta, plan, message) for plan in plans]
        path = f"{quote(meta.info.name, safe='')}/{_NAMESPACE}.{message}"
        try:
            client.request("POST", path, headers=_JSON, content=orjson.dumps({"Targets": targets}))
        except RequestRejected:
            if message == _CREATE:
                # some of them exist after all (or one is bad): read, plan and write them again
                return [], plans
            written = write_plans(self.service, meta, plans)
            if all(r.outcome is not Outcome.ERROR for _, r in written[0]) and not written[1]:
                with self._lock:
                    self._offered.get(meta.info.name, set()).discard(message)
            return written
        except RetriableError as exc:
            reason = f"gave up after {client.retry.max_attempts} attempts: {exc}"
            return [
                (p.index, RecordResult(p.key, Outcome.ERROR, reason, transient=True)) for p in plans
            ], []
        outcome = {_CREATE: Outcome.INSERTED}.get(message)
        return [(p.index, RecordResult(p.key, outcome or p.outcome)) for p in plans], []

    def _target(self, meta: EntitySetMetadata, plan: WritePlan, message: str) -> dict[str, object]:
        target: dict[str, object] = {
            "@odata.type": f"{_NAMESPACE}.{meta.entity_type.rpartition('.')[2]}",
            **plan.payload,
        }
        if message == _UPSERT:
            # the record's address as the Web API reference writes it: relative, not encoded
            target["@odata.id"] = unquote(self.service.dialect.record_path(meta, plan.key))
        return target


def _catalogue_path(table: str) -> str:
    """The one ``GET`` asking which of :data:`_MESSAGES` ``table`` offers: the documented
    query, both messages in one ``$filter``, each row naming its message by ``$expand``."""
    names = " or ".join(f"sdkmessageid/name eq '{message}'" for message in _MESSAGES)
    query = urlencode(
        {
            "$select": "sdkmessagefilterid",
            "$expand": "sdkmessageid($select=name)",
            "$filter": f"({names}) and primaryobjecttypecode eq '{table}'",
        },
        quote_via=quote,
        safe="$()',/=@",
    )
    return f"sdkmessagefilters?{query}"
