"""Upsert planning and ``$batch`` writing, shared by the OData connectors.

An upsert of N records costs, in HTTP requests:

1. one request reading the stored rows for all N keys (a ``$batch`` of ``GET``s, each with a
   ``$filter`` over ``keys_per_read`` keys; a plain ``GET`` when one suffices). Records equal to
   what is stored are reported ``unchanged`` and not sent; the others are known to be inserts or
   updates before they are sent, and updates send only the fields that changed;
2. ``ceil(changed / batch_size)`` ``$batch`` requests (up to 1000 operations each, run
   ``parallel_batches`` at a time) with ``Prefer: odata.continue-on-error``;
3. retries: a whole batch that fails transiently is sent again by the client; operations whose
   own answer is 429/5xx, or that the server left unanswered, go again in a smaller batch after
   the retry policy's delay. A refused operation is reported as that record's error, with the
   server's message (and the field it names, when it names one of the record's fields).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from integrator.connectors.base import Outcome, Record, RecordResult
from integrator.connectors.http.batch import BatchPart
from integrator.connectors.http.compare import bind_target_id, same_value
from integrator.connectors.http.lookup import read_by_keys
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.responses import (
    describe_url,
    error_from_status,
    odata_error,
)
from integrator.errors import RetriableError

if TYPE_CHECKING:
    from integrator.connectors.http.connector import ODataConnector

__all__ = ["WritePlan", "Written", "key_of", "normal_key", "plan_writes", "write_plans"]

_BIND_SUFFIX = "@odata.bind"


@dataclass(frozen=True)
class WritePlan:
    """One record's write: where it goes, what it sends, and what it will count as."""

    index: int
    key: Mapping[str, Any]
    payload: Mapping[str, Any]
    outcome: Outcome
    #: ``insert`` creates, ``update`` changes an existing row
    action: Literal["insert", "update"]
    fallback_used: bool = False
    #: sent without reading first, as a create that fails if the record exists (see upsert)
    create_only: bool = False


def plan_writes(
    connector: ODataConnector,
    meta: EntitySetMetadata,
    key: tuple[str, ...],
    records: Sequence[Record],
    indexes: list[int],
    results: list[RecordResult | None],
) -> tuple[list[WritePlan], int]:
    """Plan writes for ``records[indexes]`` (keys distinct); unchanged ones go to ``results``.

    Returns the plans and how many of the records are stored already.
    """
    stored: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    if connector.settings.skip_unchanged and indexes:
        wanted: dict[str, None] = {}
        for index in indexes:
            for name in records[index]:
                prop = _stored_property(meta, name)
                if prop is not None:
                    wanted[prop] = None
        keys = [tuple(records[i][k] for k in key) for i in indexes]
        key_props = [meta.properties[k] for k in key]
        for found in read_by_keys(connector, meta, key, keys, list(wanted)):
            stored[normal_key(tuple(found.get(p) for p in key_props))] = found
    plans: list[WritePlan] = []
    for index in indexes:
        record = records[index]
        values = tuple(record[k] for k in key)
        row = stored.get(normal_key(values))
        record_key = key_of(record, key)
        if row is None:
            plans.append(WritePlan(index, record_key, dict(record), Outcome.INSERTED, "insert"))
            continue
        changes = {
            name: value
            for name, value in record.items()
            if name not in key and not _unchanged(meta, row, name, value)
        }
        if not changes:
            results[index] = RecordResult(record_key, Outcome.UNCHANGED)
        else:
            plans.append(WritePlan(index, record_key, changes, Outcome.UPDATED, "update"))
    return plans, len(stored)


Written = tuple[list[tuple[int, RecordResult]], list[WritePlan]]


def write_plans(
    connector: ODataConnector, meta: EntitySetMetadata, plans: list[WritePlan]
) -> Written:
    """Send ``plans`` in ``$batch`` requests: ``(index, result)`` for each plan, except the
    ``create_only`` plans refused because the record exists, which are returned apart."""
    size = connector.settings.batch_size
    chunks = [plans[i : i + size] for i in range(0, len(plans), size)]
    if len(chunks) <= 1 or connector.settings.parallel_batches == 1:
        outputs = [_write_chunk(connector, meta, chunk) for chunk in chunks]
    else:
        pool = connector.batch_pool()
        futures = [pool.submit(_write_chunk, connector, meta, chunk) for chunk in chunks]
        outputs = [future.result() for future in futures]
    return (
        [item for done, _ in outputs for item in done],
        [plan for _, conflicts in outputs for plan in conflicts],
    )


def _write_chunk(
    connector: ODataConnector, meta: EntitySetMetadata, plans: list[WritePlan]
) -> Written:
    done: list[tuple[int, RecordResult]] = []
    conflicts: list[WritePlan] = []
    pending = plans
    retry = connector.client.retry
    attempt = 0
    while pending:
        operations = [connector.write_operation(meta, plan) for plan in pending]
        parts = connector.client.batch(operations)
        again: list[WritePlan] = []
        transient: RetriableError | None = None
        for plan, operation, part in zip(pending, operations, parts, strict=True):
            url = connector.client.url_text(operation.path)
            if part.status is None:
                again.append(plan)
                transient = RetriableError(f"{operation.method} {describe_url(url)}: no answer")
                continue
            error = error_from_status(
                operation.method, url, part.status, part.body, part.header("Retry-After")
            )
            if error is None:
                outcome = _outcome(connector, plan, part)
                done.append((plan.index, RecordResult(plan.key, outcome)))
            elif isinstance(error, RetriableError):
                again.append(plan)
                transient = error
            else:
                code, message = odata_error(part.body)
                if plan.create_only and connector.exists_refusal(part.status, code):
                    conflicts.append(plan)
                    continue
                alternative = (
                    None if plan.fallback_used else connector.fallback(plan, part.status, code)
                )
                if alternative is not None:
                    again.append(replace(alternative, fallback_used=True))
                else:
                    text = message or f"HTTP {part.status}"
                    done.append(
                        (
                            plan.index,
                            RecordResult(plan.key, Outcome.ERROR, text, _field_named(text, plan)),
                        )
                    )
        pending = again
        if pending and transient is not None:
            attempt += 1
            if attempt >= retry.max_attempts:
                for plan in pending:
                    done.append(
                        (
                            plan.index,
                            RecordResult(
                                plan.key,
                                Outcome.ERROR,
                                f"gave up after {attempt} attempts: {transient}",
                            ),
                        )
                    )
                break
            if transient.status == 429 and transient.retry_after:
                connector.client.budget.pause(transient.retry_after)
            connector.client.sleep(retry.delay(attempt - 1, transient.retry_after))
    return done, conflicts


def _outcome(connector: ODataConnector, plan: WritePlan, part: BatchPart) -> Outcome:
    if connector.settings.skip_unchanged:
        return plan.outcome  # known from the stored rows read before writing
    return Outcome.INSERTED if part.status == 201 else Outcome.UPDATED


def normal_key(values: tuple[Any, ...]) -> tuple[Any, ...]:
    # Dynamics compares keys case-insensitively (and F&O returns dataAreaId lower-cased).
    return tuple(v.casefold() if isinstance(v, str) else v for v in values)


def key_of(record: Mapping[str, Any], key: tuple[str, ...]) -> dict[str, Any]:
    return {k: record.get(k) for k in key}


def _stored_property(meta: EntitySetMetadata, name: str) -> str | None:
    if name.endswith(_BIND_SUFFIX):
        navigation = name[: -len(_BIND_SUFFIX)]
        for nav in meta.navigations:
            if nav.name == navigation and nav.lookup:
                return meta.properties.get(nav.lookup)
        return None
    return meta.properties.get(name)


def _unchanged(meta: EntitySetMetadata, row: Mapping[str, Any], name: str, value: Any) -> bool:
    prop = _stored_property(meta, name)
    if prop is None or prop not in row:
        return False
    if name.endswith(_BIND_SUFFIX):
        target = bind_target_id(value)
        stored = row.get(prop)
        return target is not None and isinstance(stored, str) and stored.lower() == target
    info = meta.info.fields.get(name)
    return same_value(info.type if info else None, row.get(prop), value)


def _field_named(message: str, plan: WritePlan) -> str | None:
    """The first of the record's fields the server's message names, if any."""
    for name in plan.payload:
        if re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", message):
            return name
    return None
