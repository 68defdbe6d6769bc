"""OData errors as the sandbox answers them: status, code and a message a person can act on.

Every failure the HTTP layer reports is an :class:`ODataError`; the app turns it into the body
``{"error": {"code": ..., "message": ...}}``. Codes follow Dataverse's hexadecimal codes where
Microsoft's value is known, and are named constants here so that connectors can match on them.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

__all__ = [
    "BAD_REQUEST",
    "BATCH_TOO_LARGE",
    "CONCURRENCY_LIMIT",
    "DELTA_TOKEN_EXPIRED",
    "DELTA_TOKEN_INVALID",
    "DUPLICATE_RECORD",
    "INTERNAL_ERROR",
    "INVALID_FILTER",
    "INVALID_KEY",
    "INVALID_PROPERTY",
    "INVALID_VALUE",
    "NOT_FOUND",
    "PRECONDITION_FAILED",
    "RATE_LIMITED",
    "REQUEST_LIMIT",
    "REQUEST_TOO_LARGE",
    "RULE_VIOLATION",
    "SERVICE_UNAVAILABLE",
    "TOO_LONG",
    "UNKNOWN_RESOURCE",
    "ODataError",
    "error_body",
]

#: the request is malformed (bad JSON, bad header, bad query option)
BAD_REQUEST = "0x8006088a"
#: no entity set, action or path segment of that name
UNKNOWN_RESOURCE = "0x80060888"
#: a property in the payload or in ``$select``/``$orderby`` that the entity does not have
INVALID_PROPERTY = "0x80060888"
#: a value of the wrong type for its field
INVALID_VALUE = "0x80048d19"
#: a string longer than its field allows
TOO_LONG = "0x80044331"
#: ``$filter`` could not be parsed or names an unknown field
INVALID_FILTER = "0x80060888"
#: a key segment that does not parse or does not match the entity's keys
INVALID_KEY = "0x80060888"
#: no record with that key
NOT_FOUND = "0x80040217"
#: a record with the same key or alternate key exists (create only / duplicate)
DUPLICATE_RECORD = "0x80040237"
#: If-Match named a version the record no longer has
PRECONDITION_FAILED = "0x80060882"
#: a business rule of the store refused the record (the message names the field and value)
RULE_VIOLATION = "0x80040265"
#: more than 1000 operations in one ``$batch``
BATCH_TOO_LARGE = "0x8006088b"
#: the delta token is older than the change-tracking retention: read everything again.
#: Status 410. (ours: Dataverse calls this "ExpiredVersionStamp"; its numeric code is not public)
DELTA_TOKEN_EXPIRED = "ExpiredVersionStamp"
#: the delta token was not issued by this sandbox or not for this entity set. Status 400.
DELTA_TOKEN_INVALID = "InvalidDeltaToken"
#: service protection: number of requests over the window (Dataverse's code)
REQUEST_LIMIT = "0x80072322"
#: a request body over the sandbox's size limit. Status 413. (ours: Dataverse's code for it is
#: not public)
REQUEST_TOO_LARGE = "RequestEntityTooLarge"
#: service protection: concurrent requests over the limit (Dataverse's code)
CONCURRENCY_LIMIT = "0x80072326"
#: an injected 429 (rate fault)
RATE_LIMITED = "0x80072322"
#: an injected 500
INTERNAL_ERROR = "0x80040216"
#: an injected 503
SERVICE_UNAVAILABLE = "0x80040216"


class ODataError(Exception):
    """A failure answered as an OData error: ``status``, ``code``, ``message``, extra headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(f"{status} {code}: {message}")

    def body(self) -> bytes:
        """The JSON error body."""
        return error_body(self.code, self.message)


def error_body(code: str, message: str) -> bytes:
    """``{"error": {"code": code, "message": message}}`` as JSON bytes."""
    return orjson.dumps({"error": {"code": code, "message": message}})
