"""Delete records by key in ``$batch`` requests (``DELETE entityset(key)`` operations)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from integrator.connectors.base import Outcome, RecordResult
from integrator.connectors.http.batch import BatchOperation, BatchPart
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.responses import odata_error
from integrator.connectors.http.service import ODataService
from integrator.errors import RequestRejected

__all__ = ["delete_keys"]

_IF_EXISTS = {"If-Match": "*"}


def delete_keys(
    connector: ODataService, meta: EntitySetMetadata, keys: Sequence[Mapping[str, Any]]
) -> list[RecordResult]:
    """Delete each key's record: ``deleted``, ``unchanged`` when it was already gone (404), or
    ``error`` with the service's message. Transient answers are retried with backoff."""
    results: list[RecordResult | None] = [None] * len(keys)

    def operation(index: int) -> BatchOperation:
        return BatchOperation(
            "DELETE", connector.dialect.record_path(meta, keys[index]), None, _IF_EXISTS
        )

    def settle(index: int, part: BatchPart, error: RequestRejected | None) -> None:
        key = dict(keys[index])
        if error is None:
            results[index] = RecordResult(key, Outcome.DELETED)
        elif part.status == 404:
            results[index] = RecordResult(key, Outcome.UNCHANGED)
        else:
            _, message = odata_error(part.body)
            results[index] = RecordResult(key, Outcome.ERROR, message or f"HTTP {part.status}")
        return None

    def give_up(index: int, reason: str) -> None:
        results[index] = RecordResult(dict(keys[index]), Outcome.ERROR, reason, transient=True)

    size = connector.settings.batch_size
    for start in range(0, len(keys), size):
        chunk = range(start, min(start + size, len(keys)))
        connector.client.send_until_settled(list(chunk), operation, settle, give_up)
    return [r for r in results if r is not None]
