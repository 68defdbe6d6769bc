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
from collections.abc import Iterable
from dataclasses import replace

from integrator.connectors.base import Outcome, RecordResult
from integrator.connectors.http.batch import BatchPart
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.plans import WritePlan
from integrator.connectors.http.responses import odata_error
from integrator.connectors.http.service import ODataService, Written
from integrator.errors import RequestRejected

__all__ = ["WritePlan", "Written", "field_named", "write_plans"]


def write_plans(
    connector: ODataService, meta: EntitySetMetadata, plans: list[WritePlan]
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
    connector: ODataService, meta: EntitySetMetadata, plans: list[WritePlan]
) -> Written:
    done: list[tuple[int, RecordResult]] = []
    conflicts: list[WritePlan] = []

    def settle(plan: WritePlan, part: BatchPart, error: RequestRejected | None) -> WritePlan | None:
        if error is None:
            done.append((plan.index, RecordResult(plan.key, _outcome(connector, plan, part))))
            return None
        code, message = odata_error(part.body)
        assert part.status is not None
        if plan.create_only and dialect.exists_refusal(part.status, code):
            conflicts.append(plan)
            return None
        alternative = None if plan.fallback_used else dialect.fallback(plan, part.status, code)
        if alternative is not None:
            return replace(alternative, fallback_used=True)
        text = message or f"HTTP {part.status}"
        field = field_named(text, [*plan.payload, *meta.info.fields])
        done.append((plan.index, RecordResult(plan.key, Outcome.ERROR, text, field)))
        return None

    def give_up(plan: WritePlan, reason: str) -> None:
        done.append((plan.index, RecordResult(plan.key, Outcome.ERROR, reason, transient=True)))

    dialect = connector.dialect
    connector.client.send_until_settled(
        plans, lambda plan: dialect.write_operation(meta, plan), settle, give_up
    )
    return done, conflicts


def _outcome(connector: ODataService, plan: WritePlan, part: BatchPart) -> Outcome:
    if connector.settings.skip_unchanged:
        return plan.outcome  # known from the stored rows read before writing
    return Outcome.INSERTED if part.status == 201 else Outcome.UPDATED


def field_named(message: str, names: Iterable[str]) -> str | None:
    """The field the server's message names first (of ``names``: the entity's properties),
    so ``PersonLastName is required when PartyType is Person`` names PersonLastName."""
    found: tuple[int, str] | None = None
    for name in names:
        match = re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", message)
        if match and (found is None or match.start() < found[0]):
            found = (match.start(), name)
    return found[1] if found else None
