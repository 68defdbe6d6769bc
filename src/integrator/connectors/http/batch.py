"""OData ``$batch`` bodies: write a multipart/mixed request, read the multipart answer.

Operations go in as top-level parts, not in a change set, so that with
``Prefer: odata.continue-on-error`` each one succeeds or fails on its own (a change set is all
or nothing). Each part carries ``Content-ID`` = its 1-based position; answers are matched by
``Content-ID`` when the server echoes it, otherwise by position. Change-set answers nested in
the response are flattened in order.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import orjson

from integrator.connectors.http.responses import describe_url, error_from_status
from integrator.errors import BadResponseError, RequestRejected, RetriableError

__all__ = ["BatchOperation", "BatchPart", "decode_batch", "encode_batch"]

_CRLF = b"\r\n"


@dataclass(frozen=True)
class BatchOperation:
    """One request inside a batch. ``path`` is relative to the service root (or an absolute URL
    such as a next link), percent-encoded."""

    method: str
    path: str
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, method: str, path: str, payload: Any, headers: Mapping[str, str] | None = None
    ) -> BatchOperation:
        """An operation with a JSON body."""
        return cls(method, path, orjson.dumps(payload), dict(headers or {}))


@dataclass(frozen=True)
class BatchPart:
    """The answer to one operation. ``status`` is ``None`` when the server never answered it."""

    status: int | None
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """A header of the inner HTTP response (name case-insensitive)."""
        return self.headers.get(name.lower())

    def error(self, method: str, url: str) -> RetriableError | RequestRejected | None:
        """What this answer to ``method url`` means, as for a whole response
        (:func:`~integrator.connectors.http.responses.error_from_status`): ``None`` when good,
        ``RetriableError`` when transient (429, 5xx, or never answered), ``RequestRejected``
        when refused. The one place a part's answer is classified."""
        if self.status is None:
            return RetriableError(f"{method} {describe_url(url)}: no answer")
        return error_from_status(method, url, self.status, self.body, self.header("Retry-After"))


def encode_batch(
    operations: Sequence[BatchOperation], *, base_url: str, boundary: str | None = None
) -> tuple[str, bytes]:
    """``(content_type, body)`` of a ``$batch`` request holding ``operations`` in order."""
    boundary = boundary or f"batch_{uuid.uuid4().hex}"
    base = base_url if base_url.endswith("/") else base_url + "/"
    chunks: list[bytes] = []
    for number, op in enumerate(operations, start=1):
        lines = [
            f"--{boundary}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: {number}",
            "",
            f"{op.method} {op.path if '://' in op.path else base + op.path} HTTP/1.1",
        ]
        headers = dict(op.headers)
        if op.body is not None:
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        lines.extend(["", ""])
        chunks.append(_CRLF.join(line.encode("utf-8") for line in lines))
        if op.body is not None:
            chunks.append(op.body)
        chunks.append(_CRLF)
    chunks.append(f"--{boundary}--".encode() + _CRLF)
    return f"multipart/mixed; boundary={boundary}", b"".join(chunks)


def _boundary_of(content_type: str) -> str | None:
    message = Message()
    message["Content-Type"] = content_type
    if message.get_content_type() != "multipart/mixed":
        return None
    boundary = message.get_param("boundary")
    return boundary if isinstance(boundary, str) and boundary else None


def _split_head(chunk: bytes) -> tuple[bytes, bytes] | None:
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, rest = chunk.partition(separator)
        if found:
            return head, rest
    return None


def _header_lines(head: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").splitlines():
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers


class _Reader:
    def __init__(self, url: str) -> None:
        self.where = f"POST {describe_url(url)}"

    def bad(self, what: str) -> BadResponseError:
        return BadResponseError(f"{self.where}: malformed $batch answer: {what}")

    def multipart(self, content_type: str, body: bytes) -> list[tuple[str | None, BatchPart]]:
        boundary = _boundary_of(content_type)
        if boundary is None:
            raise self.bad(f"expected multipart/mixed with a boundary, got {content_type!r}")
        delimiter = b"--" + boundary.encode("latin-1")
        pieces = body.split(delimiter)
        if len(pieces) < 2:
            raise self.bad(f"boundary {boundary!r} does not occur in the body")
        parts: list[tuple[str | None, BatchPart]] = []
        closed = False
        for piece in pieces[1:]:
            if piece.startswith(b"--"):
                closed = True
                break
            parts.extend(self.part(piece))
        if not closed:
            raise self.bad("the body ends before the closing boundary (cut short?)")
        return parts

    def part(self, piece: bytes) -> list[tuple[str | None, BatchPart]]:
        piece = piece.removeprefix(b"\r\n").removeprefix(b"\n")
        piece = piece.removesuffix(b"\n").removesuffix(b"\r")
        split = _split_head(piece)
        if split is None:
            raise self.bad("a part has no blank line after its headers")
        mime_headers = _header_lines(split[0])
        content_type = mime_headers.get("content-type", "")
        if content_type.lower().startswith("multipart/mixed"):
            return self.multipart(content_type, split[1])
        if not content_type.lower().startswith("application/http"):
            raise self.bad(f"a part has Content-Type {content_type!r}, not application/http")
        return [(mime_headers.get("content-id"), self.http_response(split[1]))]

    def http_response(self, message: bytes) -> BatchPart:
        split = _split_head(message)
        head, body = split if split is not None else (message, b"")
        status_line, _, header_block = head.partition(b"\n")
        words = status_line.decode("utf-8", "replace").split()
        if len(words) < 2 or not words[0].startswith("HTTP/") or not words[1].isdigit():
            raise self.bad(f"a part's status line is {status_line[:60]!r}")
        return BatchPart(int(words[1]), _header_lines(header_block), body)


def decode_batch(content_type: str, body: bytes, *, expected: int, url: str) -> list[BatchPart]:
    """The ``expected`` answers of a ``$batch`` response, in the order of the operations.

    Raises ``BadResponseError`` naming ``url`` when the body is not a well-formed multipart
    answer or holds more answers than operations. Missing answers are returned with status
    ``None``.
    """
    reader = _Reader(url)
    parts = reader.multipart(content_type, body)
    if len(parts) > expected:
        raise reader.bad(f"{len(parts)} answers for {expected} operations")
    answers: list[BatchPart | None] = [None] * expected
    by_id = all(cid is not None and cid.isdigit() for cid, _ in parts)
    for position, (content_id, part) in enumerate(parts):
        index = int(content_id) - 1 if by_id and content_id is not None else position
        if not 0 <= index < expected or answers[index] is not None:
            raise reader.bad(f"an answer has Content-ID {content_id!r}, which names no operation")
        answers[index] = part
    return [a if a is not None else BatchPart(None, {}, b"") for a in answers]
