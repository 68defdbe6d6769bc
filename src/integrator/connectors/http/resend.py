"""Send operations in ``$batch`` requests until every one is settled: the one place that
decides what a part's answer means for sending it again.

A part answered 429/5xx, or not answered, goes out again in a smaller batch after the retry
policy's delay (a 429's ``Retry-After`` also pauses every connector sharing the budget). When
the server stopped early after answering some parts (it ignored continue-on-error), the rest go
out at once: that is progress, not a failure to back off from. Every other answer is handed to
the caller's ``settle``, which may ask for a different operation to be sent in its place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from integrator.connectors.http.batch import BatchOperation, BatchPart
from integrator.connectors.http.responses import describe_url, error_from_status
from integrator.errors import RequestRejected, RetriableError

if TYPE_CHECKING:
    from integrator.connectors.http.connector import ODataConnector

__all__ = ["send_until_settled"]

Item = TypeVar("Item")

#: told of an item's final answer (``error`` is ``None`` for a success); returns an item to
#: send instead, or ``None`` when the item is settled
Settle = Callable[[Item, BatchPart, RequestRejected | None], Item | None]


def send_until_settled(
    connector: ODataConnector,
    items: Sequence[Item],
    operation: Callable[[Item], BatchOperation],
    settle: Settle[Item],
    give_up: Callable[[Item, str], None],
) -> None:
    """Send ``operation(item)`` for each item in one ``$batch`` (the caller sizes ``items``),
    again for those answered transiently, until each is settled or the retries run out
    (``give_up`` is told why)."""
    retry = connector.client.retry
    pending = list(items)
    attempt = 0
    while pending:
        operations = [operation(item) for item in pending]
        parts = connector.client.batch(operations)
        again: list[Item] = []
        transient: RetriableError | None = None
        unanswered: RetriableError | None = None
        for item, sent, part in zip(pending, operations, parts, strict=True):
            url = connector.client.url_text(sent.path)
            if part.status is None:
                again.append(item)
                unanswered = RetriableError(f"{sent.method} {describe_url(url)}: no answer")
                continue
            error = error_from_status(
                sent.method, url, part.status, part.body, part.header("Retry-After")
            )
            if isinstance(error, RetriableError):
                again.append(item)
                transient = error
                continue
            instead = settle(item, part, error)
            if instead is not None:
                again.append(instead)
        pending = again
        if unanswered is not None and transient is None and len(pending) < len(operations):
            continue
        reason = transient or unanswered
        if pending and reason is not None:
            attempt += 1
            if attempt >= retry.max_attempts:
                for item in pending:
                    give_up(item, f"gave up after {attempt} attempts: {reason}")
                return
            if reason.status == 429 and reason.retry_after:
                connector.client.budget.pause(reason.retry_after)
            connector.client.sleep(retry.delay(attempt - 1, reason.retry_after))
