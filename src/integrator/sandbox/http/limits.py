"""Request size limits of the sandbox, checked before a body is held in memory.

Dataverse documents these limits for its Web API (``webapi/compose-http-requests-handle-errors``
and ``webapi/execute-batch-operations-using-web-api``): a ``$batch`` holds at most 1000
requests (:data:`integrator.sandbox.http.batch.MAX_OPERATIONS`), and a single request uploads at
most 128 MB (file columns, which the sandbox does not serve). It documents no byte limit of its
own for JSON and ``$batch`` bodies, so the sandbox sets one: :data:`MAX_BODY_BYTES`, ten times
the largest body integrator sends (a ``$batch`` of 1000 upserts is about 3 MB). A larger body is
refused with 413 from its ``Content-Length`` alone, or, sent chunked, as soon as the bytes read
pass the limit: never read whole first.
"""

from __future__ import annotations

from starlette.requests import Request

from integrator.sandbox.http.errors import BAD_REQUEST, REQUEST_TOO_LARGE, ODataError

__all__ = ["MAX_ADMIN_BODY_BYTES", "MAX_BODY_BYTES", "describe_bytes", "read_body"]

#: the largest request body a service reads (32 MiB)
MAX_BODY_BYTES = 32 * 1024 * 1024
#: the largest body of the ``/_sandbox`` admin endpoints (a fault config is a few hundred bytes)
MAX_ADMIN_BODY_BYTES = 64 * 1024


def describe_bytes(size: int) -> str:
    """``size`` for a person: ``32 MiB``, ``64 KiB``, ``512 bytes``."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value.is_integer() else f"{value:.1f} {unit}"
    return f"{size} bytes"


def _too_large(limit: int, size: str) -> ODataError:
    return ODataError(
        413,
        REQUEST_TOO_LARGE,
        f"The request body ({size}) is larger than the limit of {describe_bytes(limit)} "
        f"({limit} bytes); send fewer records per request (a $batch holds at most 1000 "
        "operations)",
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The body of ``request``, read only while it stays within ``limit`` bytes.

    Raises :class:`ODataError` 413 when ``Content-Length`` says more than ``limit`` (nothing is
    read) or when a chunked body passes ``limit`` (reading stops there), and 400 when
    ``Content-Length`` is not a number.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ODataError(400, BAD_REQUEST, f"Content-Length '{declared}' is not a number")
        length = int(declared)
        if length > limit:
            raise _too_large(limit, describe_bytes(length))
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(limit, f"more than {describe_bytes(limit)}")
        chunks.append(chunk)
    return b"".join(chunks)
