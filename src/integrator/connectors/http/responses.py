"""The one place where an HTTP status becomes an exception, and where JSON bodies are checked.

- 2xx: fine;
- 429 and 5xx: :class:`RetriableError` (with ``Retry-After`` in seconds when the server sent it);
- 410 with Dataverse's expired-version-stamp code: ``RequestRejected(code="checkpoint-expired")``;
- other statuses: :class:`RequestRejected` with the OData error's message and code;
- a body that is not the JSON object OData promises: :class:`BadResponseError`.

Messages name the method and the URL (shortened) and what was wrong, never a header, so no
credential can leak into them.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx
import orjson

from integrator.errors import BadResponseError, RequestRejected, RetriableError

__all__ = [
    "CHECKPOINT_EXPIRED",
    "check_status",
    "describe_url",
    "error_from_status",
    "odata_error",
    "parse_json_object",
    "parse_retry_after",
]

CHECKPOINT_EXPIRED = "checkpoint-expired"
_EXPIRED_CODES = {"expiredversionstamp", "0x80044352", "changetrackingtokenexpired"}
_URL_SHOWN = 160


def describe_url(url: str | httpx.URL) -> str:
    """The URL for a message: long query strings shortened (they can be tens of kilobytes)."""
    text = str(url)
    return text if len(text) <= _URL_SHOWN else text[:_URL_SHOWN] + "…"


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (it may be seconds or an HTTP date); ``None`` when absent/bad."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def odata_error(body: bytes) -> tuple[str | None, str | None]:
    """``(code, message)`` from an OData error body, or ``(None, None)`` when it is not one."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(data, dict) or not isinstance(data.get("error"), dict):
        return None, None
    error = data["error"]
    code = error.get("code")
    message = error.get("message")
    if isinstance(message, dict):  # OData v3 shape: {"message": {"value": ...}}
        message = message.get("value")
    return (
        str(code) if code is not None else None,
        str(message) if message is not None else None,
    )


def error_from_status(
    method: str,
    url: str | httpx.URL,
    status: int,
    body: bytes,
    retry_after: str | None = None,
) -> RetriableError | RequestRejected | None:
    """The exception an answer with ``status`` means, or ``None`` for a success (2xx).

    Used for whole responses and for each part of a ``$batch`` response alike.
    """
    if 200 <= status < 300:
        return None
    code, message = odata_error(body)
    if message is None:
        snippet = body[:120].decode("utf-8", "replace").strip()
        message = snippet or "no error message"
    where = f"{method} {describe_url(url)}"
    if status == 429 or status >= 500:
        return RetriableError(
            f"{where}: HTTP {status}: {message}",
            status=status,
            retry_after=parse_retry_after(retry_after),
        )
    if code is not None and code.lower() in _EXPIRED_CODES:
        return RequestRejected(
            f"{where}: the change-tracking checkpoint has expired; read everything again "
            f"({message})",
            status=status,
            code=CHECKPOINT_EXPIRED,
        )
    return RequestRejected(f"{where}: HTTP {status}: {message}", status=status, code=code)


def check_status(response: httpx.Response) -> None:
    """Raise the exception ``response``'s status means; return quietly for 2xx."""
    error = error_from_status(
        response.request.method,
        response.request.url,
        response.status_code,
        response.content,
        response.headers.get("Retry-After"),
    )
    if error is not None:
        raise error


def parse_json_object(body: bytes, *, method: str, url: str | httpx.URL) -> dict[str, Any]:
    """Decode ``body`` as a JSON object; ``BadResponseError`` saying what was wrong otherwise."""
    where = f"{method} {describe_url(url)}"
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        snippet = body[:60].decode("utf-8", "replace").strip()
        if not body.strip():
            raise BadResponseError(f"{where}: expected a JSON body, got an empty one") from None
        if snippet.startswith("<"):
            raise BadResponseError(
                f"{where}: expected JSON, got what looks like HTML or XML: {snippet!r}"
            ) from None
        raise BadResponseError(
            f"{where}: the JSON body is malformed or cut short ({exc})"
        ) from None
    if not isinstance(data, dict):
        raise BadResponseError(f"{where}: expected a JSON object, got {type(data).__name__}")
    return data
