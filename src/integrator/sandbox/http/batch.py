"""``$batch``: multipart/mixed requests of up to 1000 operations, change sets atomic.

The whole batch runs in one SQLite transaction on the writer connection: every top-level
operation and every change set gets a SAVEPOINT, rolled back alone when it fails, so a failed
change set leaves no trace and the others commit together. Without ``Prefer:
odata.continue-on-error`` the batch stops at the first failure (answered 400, with the responses
so far); with it every operation runs and each failure is reported in its own part (200).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlsplit

from integrator.sandbox.http.errors import BAD_REQUEST, BATCH_TOO_LARGE, ODataError
from integrator.sandbox.http.messages import ODataRequest, ODataResponse, Prefer, error_response

__all__ = ["MAX_OPERATIONS", "BatchOperation", "ChangeSet", "parse_batch", "run_batch"]

MAX_OPERATIONS = 1000


@dataclass
class BatchOperation:
    """One HTTP request inside a batch."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    content_id: str | None = None


@dataclass
class ChangeSet:
    """Operations that succeed or fail together."""

    operations: list[BatchOperation] = field(default_factory=list)


def _boundary(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary" and value:
            return value.strip().strip('"')
    raise ODataError(
        400, BAD_REQUEST, "A $batch request needs Content-Type multipart/mixed with a boundary"
    )


def _split_head(
    block: bytes, *, request_line: bool = False
) -> tuple[dict[str, str], bytes, list[str]]:
    """Headers (lower-case names), body and the raw head lines of a MIME part or, with
    ``request_line``, of an HTTP request (whose first line is not a header)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        idx = block.find(sep)
        if idx != -1:
            head, body = block[:idx], block[idx + len(sep) :]
            break
    else:
        head, body = block, b""
    lines = head.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    headers: dict[str, str] = {}
    for line in lines[1:] if request_line else lines:
        name, sep_, value = line.partition(":")
        if sep_:
            headers[name.strip().lower()] = value.strip()
    return headers, body, lines


def _parts(body: bytes, boundary: str) -> list[bytes]:
    delimiter = b"--" + boundary.encode()
    pieces = body.split(delimiter)
    if len(pieces) < 2:
        raise ODataError(400, BAD_REQUEST, "The $batch body has no part with the declared boundary")
    parts: list[bytes] = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        if piece.startswith(b"\r\n"):
            piece = piece[2:]
        elif piece.startswith(b"\n"):
            piece = piece[1:]
        if piece.endswith(b"\r\n"):
            piece = piece[:-2]
        elif piece.endswith(b"\n"):
            piece = piece[:-1]
        parts.append(piece)
    return parts


def _operation(part: bytes, *, in_change_set: bool) -> BatchOperation:
    mime_headers, http_message, _ = _split_head(part)
    request_headers, body, lines = _split_head(http_message.lstrip(b"\r\n"), request_line=True)
    request_line = lines[0].strip() if lines else ""
    words = request_line.split()
    if len(words) < 2:
        raise ODataError(400, BAD_REQUEST, f"Bad request line in $batch part: '{request_line}'")
    method = words[0].upper()
    if in_change_set and method == "GET":
        raise ODataError(400, BAD_REQUEST, "GET requests are not allowed inside a change set")
    content_id = mime_headers.get("content-id") or request_headers.get("content-id")
    return BatchOperation(method, words[1], request_headers, body.rstrip(b"\r\n"), content_id)


def parse_batch(body: bytes, content_type: str) -> list[BatchOperation | ChangeSet]:
    """The operations and change sets of a multipart/mixed ``$batch`` body.

    400 when it is malformed or holds more than :data:`MAX_OPERATIONS` operations.
    """
    items: list[BatchOperation | ChangeSet] = []
    total = 0
    for part in _parts(body, _boundary(content_type)):
        headers, inner, _ = _split_head(part)
        part_type = headers.get("content-type", "")
        if part_type.lower().startswith("multipart/mixed"):
            change_set = ChangeSet()
            for sub in _parts(inner, _boundary(part_type)):
                change_set.operations.append(_operation(sub, in_change_set=True))
            total += len(change_set.operations)
            items.append(change_set)
        else:
            items.append(_operation(part, in_change_set=False))
            total += 1
    if total > MAX_OPERATIONS:
        raise ODataError(
            400,
            BATCH_TOO_LARGE,
            f"The $batch holds {total} operations; the limit is {MAX_OPERATIONS}",
        )
    return items


def _http_part(response: ODataResponse, content_id: str | None) -> bytes:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id is not None:
        lines.append(f"Content-ID: {content_id}")
    phrase = (
        HTTPStatus(response.status).phrase
        if response.status in HTTPStatus._value2member_map_
        else ""
    )
    lines += ["", f"HTTP/1.1 {response.status} {phrase}"]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    lines += ["", ""]
    return "\r\n".join(lines).encode() + response.body


def _multipart(parts: list[bytes], boundary: str) -> bytes:
    out = bytearray()
    for part in parts:
        out += f"--{boundary}\r\n".encode() + part + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


Dispatch = Callable[[ODataRequest, sqlite3.Connection, dict[str, str]], ODataResponse]


def _request(
    op: BatchOperation, outer: ODataRequest, base_path: str, ids: dict[str, str]
) -> ODataRequest:
    url = op.url
    if url.startswith("$"):
        ref, _, tail = url[1:].partition("/")
        if ref not in ids:
            raise ODataError(
                400, BAD_REQUEST, f"Content-ID ${ref} is not declared earlier in the batch"
            )
        url = ids[ref] + ("/" + tail if tail else "")
    split = urlsplit(url)
    path = unquote(split.path)
    if path.startswith(base_path):
        path = path[len(base_path) :]
    elif path.startswith(base_path.rstrip("/")):
        path = path[len(base_path.rstrip("/")) :]
    query = parse_qsl(split.query, keep_blank_values=True)
    headers = {**{k: v for k, v in outer.headers.items() if k == "prefer"}, **op.headers}
    return ODataRequest(op.method, path.lstrip("/"), query, headers, op.body, outer.service_root)


def run_batch(
    outer: ODataRequest,
    conn: sqlite3.Connection,
    items: list[BatchOperation | ChangeSet],
    dispatch: Dispatch,
    base_path: str,
) -> ODataResponse:
    """Run ``items`` in one transaction on ``conn`` and answer the multipart response."""
    prefer = Prefer.parse(outer.headers.get("prefer"))
    ids: dict[str, str] = {}
    parts: list[bytes] = []
    failed = False
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        for n, item in enumerate(items):
            savepoint = f"batch_{n}"
            conn.execute(f"SAVEPOINT {savepoint}")
            if isinstance(item, ChangeSet):
                part, ok = _run_change_set(outer, conn, item, dispatch, base_path, ids)
            else:
                response = _run_one(outer, conn, item, dispatch, base_path, ids)
                ok = response.status < 400
                part = _http_part(response, item.content_id)
            if ok:
                conn.execute(f"RELEASE {savepoint}")
            else:
                conn.execute(f"ROLLBACK TO {savepoint}")
                conn.execute(f"RELEASE {savepoint}")
                failed = True
            parts.append(part)
            if failed and not prefer.continue_on_error:
                break
        if own:
            conn.execute("COMMIT")
    except BaseException:
        if own:
            conn.execute("ROLLBACK")
        raise
    boundary = f"batchresponse_{uuid.uuid4()}"
    headers = {
        "Content-Type": f"multipart/mixed; boundary={boundary}",
        "OData-Version": "4.0",
    }
    if prefer.continue_on_error:
        headers["Preference-Applied"] = "odata.continue-on-error"
    status = 400 if failed and not prefer.continue_on_error else 200
    return ODataResponse(status, headers, _multipart(parts, boundary))


def _run_one(
    outer: ODataRequest,
    conn: sqlite3.Connection,
    op: BatchOperation,
    dispatch: Dispatch,
    base_path: str,
    ids: dict[str, str],
) -> ODataResponse:
    try:
        request = _request(op, outer, base_path, ids)
        response = dispatch(request, conn, ids)
    except ODataError as exc:
        return error_response(exc)
    entity = response.headers.get("OData-EntityId")
    if op.content_id is not None and entity:
        ids[op.content_id] = entity
    return response


def _run_change_set(
    outer: ODataRequest,
    conn: sqlite3.Connection,
    change_set: ChangeSet,
    dispatch: Dispatch,
    base_path: str,
    ids: dict[str, str],
) -> tuple[bytes, bool]:
    responses: list[bytes] = []
    for op in change_set.operations:
        response = _run_one(outer, conn, op, dispatch, base_path, ids)
        if response.status >= 400:
            return _http_part(response, op.content_id), False
        responses.append(_http_part(response, op.content_id))
    boundary = f"changesetresponse_{uuid.uuid4()}"
    head = f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n".encode()
    return head + _multipart(responses, boundary), True
