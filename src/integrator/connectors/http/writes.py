"""Sending planned writes in ``$batch`` requests and reading each operation's answer.

Operations go ``batch_size`` to a request, ``parallel_batches`` requests at a time, with
``Prefer: odata.continue-on-error``. Each answer is matched to its record: a success counts as
the plan said (or, when nothing was read first, as the status says: 201 created); an answer of
429/5xx, or none at all, sends the operation again in a smaller batch after the retry policy's
delay; a refusal is that record's error, with the server's message and the field it names. A
``create_only`` write refused because the record exists is handed back for the caller to read
and plan again; a connector's ``fallback`` may turn other refusals into a different write.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from integrator.connectors.base import Outcome, RecordResult
from integrator.connectors.http.batch import BatchPart
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.responses import describe_url, error_from_status, odata_error
from integrator.errors import RetriableError

if TYPE_CHECKING:
    from integrator.connectors.http.connector import ODataConnector

__all__ = ["WritePlan", "Written", "write_plans"]


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
        unanswered: RetriableError | None = None
        for plan, operation, part in zip(pending, operations, parts, strict=True):
            url = connector.client.url_text(operation.path)
            if part.status is None:
                again.append(plan)
                unanswered = RetriableError(f"{operation.method} {describe_url(url)}: no answer")
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
                            RecordResult(
                                plan.key,
                                Outcome.ERROR,
                                text,
                                _field_named(text, [*plan.payload, *meta.info.fields]),
                            ),
                        )
                    )
        pending = again
        if unanswered is not None and transient is None and len(pending) < len(operations):
            # The server stopped early (it ignored continue-on-error) after answering some: send
            # the rest at once; this is progress, not a failure to back off from.
            continue
        transient = transient or unanswered
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


def _field_named(message: str, names: Iterable[str]) -> str | None:
    """The field the server's message names first (of ``names``: the entity's properties),
    so ``PersonLastName is required when PartyType is Person`` names PersonLastName."""
    found: tuple[int, str] | None = None
    for name in names:
        match = re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", message)
        if match and (found is None or match.start() < found[0]):
            found = (match.start(), name)
    return found[1] if found else None
