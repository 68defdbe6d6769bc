"""Delete records by key in ``$batch`` requests (``DELETE entityset(key)`` operations)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from integrator.connectors.base import Outcome, RecordResult
from integrator.connectors.http.batch import BatchOperation
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.responses import describe_url, error_from_status, odata_error
from integrator.errors import RetriableError

if TYPE_CHECKING:
    from integrator.connectors.http.connector import ODataConnector

__all__ = ["delete_keys"]

_IF_EXISTS = {"If-Match": "*"}


def delete_keys(
    connector: ODataConnector, meta: EntitySetMetadata, keys: Sequence[Mapping[str, Any]]
) -> list[RecordResult]:
    """Delete each key's record: ``deleted``, ``unchanged`` when it was already gone (404), or
    ``error`` with the service's message. Transient answers are retried with backoff."""
    results: list[RecordResult | None] = [None] * len(keys)
    size = connector.settings.batch_size
    retry = connector.client.retry
    for start in range(0, len(keys), size):
        pending = list(range(start, min(start + size, len(keys))))
        attempt = 0
        while pending:
            operations = [
                BatchOperation(
                    "DELETE", connector.record_path(meta, keys[i]), None, {"If-Match": "*"}
                )
                for i in pending
            ]
            parts = connector.client.batch(operations)
            again: list[int] = []
            transient: RetriableError | None = None
            unanswered: RetriableError | None = None
            for index, operation, part in zip(pending, operations, parts, strict=True):
                url = connector.client.url_text(operation.path)
                key = dict(keys[index])
                if part.status is None:
                    again.append(index)
                    unanswered = RetriableError(f"DELETE {describe_url(url)}: no answer")
                    continue
                if part.status == 404:
                    results[index] = RecordResult(key, Outcome.UNCHANGED)
                    continue
                error = error_from_status(
                    "DELETE", url, part.status, part.body, part.header("Retry-After")
                )
                if error is None:
                    results[index] = RecordResult(key, Outcome.DELETED)
                elif isinstance(error, RetriableError):
                    again.append(index)
                    transient = error
                else:
                    _, message = odata_error(part.body)
                    results[index] = RecordResult(
                        key, Outcome.ERROR, message or f"HTTP {part.status}"
                    )
            pending = again
            if unanswered is not None and transient is None and len(pending) < len(operations):
                continue  # the server stopped early after some answers: send the rest at once
            transient = transient or unanswered
            if pending and transient is not None:
                attempt += 1
                if attempt >= retry.max_attempts:
                    for index in pending:
                        results[index] = RecordResult(
                            dict(keys[index]),
                            Outcome.ERROR,
                            f"gave up after {attempt} attempts: {transient}",
                        )
                    break
                connector.client.sleep(retry.delay(attempt - 1, transient.retry_after))
    return [r for r in results if r is not None]
