"""The request and response of one OData operation, independent of the web framework, so that
the same code serves a plain HTTP request and an operation inside a ``$batch``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from integrator.sandbox.http.errors import ODataError

__all__ = [
    "ASSOCIATED_NAVIGATION",
    "FETCH_PAGING_COOKIE",
    "FORMATTED_VALUE",
    "JSON_TYPE",
    "LOOKUP_LOGICAL_NAME",
    "MORE_RECORDS",
    "ODataRequest",
    "ODataResponse",
    "Prefer",
    "error_response",
    "json_response",
]

JSON_TYPE = "application/json; odata.metadata=minimal"
_BASE_HEADERS = {"OData-Version": "4.0"}


@dataclass
class ODataRequest:
    """One operation: method, path below the service root (decoded), query pairs, headers
    (lower-case names), body, and the absolute service root URL for links."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Mapping[str, str]
    body: bytes
    service_root: str

    def json_body(self) -> Any:
        """The body parsed as JSON; 400 saying where it is malformed."""
        from integrator.sandbox.http.errors import BAD_REQUEST

        if not self.body.strip():
            raise ODataError(400, BAD_REQUEST, "The request body is empty: a JSON object is needed")
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise ODataError(
                400, BAD_REQUEST, f"Malformed JSON in the request body: {exc}"
            ) from None


@dataclass
class ODataResponse:
    """A status, headers and body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> ODataResponse:
    """A JSON response with the OData headers."""
    return ODataResponse(
        status,
        {**_BASE_HEADERS, "Content-Type": JSON_TYPE, **(headers or {})},
        orjson.dumps(payload),
    )


def error_response(error: ODataError) -> ODataResponse:
    """The OData error body for ``error``."""
    return ODataResponse(
        error.status,
        {**_BASE_HEADERS, "Content-Type": "application/json", **error.headers},
        error.body(),
    )


def _split_prefer(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


@dataclass(frozen=True)
class Prefer:
    """The ``Prefer`` header's preferences this service honours."""

    max_page_size: int | None = None
    return_representation: bool = False
    return_minimal: bool = False
    include_annotations: str | None = None
    track_changes: bool = False
    continue_on_error: bool = False

    @classmethod
    def parse(cls, header: str | None) -> Prefer:
        """Parse a ``Prefer`` header (several preferences, comma-separated)."""
        return _parse_prefer(header or "")

    @classmethod
    def _parse(cls, header: str) -> Prefer:
        found: dict[str, Any] = {}
        for item in _split_prefer(header):
            name, _, value = item.partition("=")
            name = name.strip().lower()
            value = value.strip().strip('"')
            if name == "odata.maxpagesize":
                if value.isdigit() and int(value) > 0:
                    found["max_page_size"] = int(value)
            elif name == "return":
                found["return_representation"] = value.lower() == "representation"
                found["return_minimal"] = value.lower() == "minimal"
            elif name == "odata.include-annotations":
                found["include_annotations"] = value
            elif name == "odata.track-changes":
                found["track_changes"] = True
            elif name == "odata.continue-on-error":
                found["continue_on_error"] = value.lower() != "false"
        return cls(**found)

    def wants(self, annotation: str) -> bool:
        """Whether ``odata.include-annotations`` asks for ``annotation`` (a term such as
        ``OData.Community.Display.V1.FormattedValue``).

        The preference is a comma-separated list of terms, ``Namespace.*`` and ``*`` wildcards,
        and exclusions written with a leading ``-``; an exclusion wins (OData 4.0 Part 1 §8.2.8.4,
        ``odata.include-annotations``).
        """
        return _wants(self.include_annotations or "", annotation)

    @property
    def lookup_annotations(self) -> bool:
        """Whether the client asked for ``@Microsoft.Dynamics.CRM.lookuplogicalname``."""
        return self.wants(LOOKUP_LOGICAL_NAME)

    @property
    def navigation_annotations(self) -> bool:
        """Whether the client asked for ``@Microsoft.Dynamics.CRM.associatednavigationproperty``."""
        return self.wants(ASSOCIATED_NAVIGATION)

    @property
    def formatted_values(self) -> bool:
        """Whether the client asked for ``@OData.Community.Display.V1.FormattedValue``."""
        return self.wants(FORMATTED_VALUE)


#: the annotation terms Dataverse adds to records when asked with ``odata.include-annotations``
FORMATTED_VALUE = "OData.Community.Display.V1.FormattedValue"
LOOKUP_LOGICAL_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
ASSOCIATED_NAVIGATION = "Microsoft.Dynamics.CRM.associatednavigationproperty"
FETCH_PAGING_COOKIE = "Microsoft.Dynamics.CRM.fetchxmlpagingcookie"
MORE_RECORDS = "Microsoft.Dynamics.CRM.morerecords"


def _term_matches(pattern: str, term: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return term.startswith(pattern[:-1])
    return pattern == term


@functools.lru_cache(maxsize=512)
def _wants(preference: str, term: str) -> bool:
    included = False
    for raw in preference.split(","):
        pattern = raw.strip()
        if not pattern:
            continue
        if pattern.startswith("-"):
            if _term_matches(pattern[1:], term):
                return False
        elif _term_matches(pattern, term):
            included = True
    return included


@functools.lru_cache(maxsize=256)
def _parse_prefer(header: str) -> Prefer:
    # every operation of a $batch carries the same few headers: parse each once
    return Prefer._parse(header)
