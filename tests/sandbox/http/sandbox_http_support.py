"""Helpers for the sandbox HTTP tests: building ``$batch`` bodies and reading their answers."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Op:
    """One operation of a batch."""

    method: str
    url: str
    body: Any = None
    content_id: str | None = None
    headers: dict[str, str] | None = None


def _op_part(op: Op) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if op.content_id is not None:
        lines.append(f"Content-ID: {op.content_id}")
    lines += ["", f"{op.method} {op.url} HTTP/1.1"]
    for name, value in (op.headers or {}).items():
        lines.append(f"{name}: {value}")
    if op.body is not None:
        lines.append("Content-Type: application/json")
        payload = op.body if isinstance(op.body, str) else json.dumps(op.body)
        lines += ["", payload]
    else:
        lines += [""]
    return "\r\n".join(lines) + "\r\n"


def batch_body(items: list[Op | list[Op]]) -> tuple[str, bytes]:
    """(Content-Type, body) of a ``$batch`` holding ``items``; a list is a change set."""
    boundary = f"batch_{uuid.uuid4()}"
    out = []
    for item in items:
        out.append(f"--{boundary}\r\n")
        if isinstance(item, list):
            cs = f"changeset_{uuid.uuid4()}"
            out.append(f"Content-Type: multipart/mixed; boundary={cs}\r\n\r\n")
            for op in item:
                out.append(f"--{cs}\r\n{_op_part(op)}")
            out.append(f"--{cs}--\r\n")
        else:
            out.append(_op_part(item))
    out.append(f"--{boundary}--\r\n")
    return f"multipart/mixed; boundary={boundary}", "".join(out).encode()


@dataclass
class PartResponse:
    """One operation's answer inside a batch response."""

    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def _boundary(content_type: str) -> str:
    return content_type.split("boundary=")[1].split(";")[0].strip('"')


def _split(body: str, boundary: str) -> list[str]:
    parts = body.split(f"--{boundary}")[1:]
    return [p.strip("\r\n") for p in parts if not p.startswith("--")]


def _http(part: str) -> PartResponse:
    _mime, _, message = part.partition("\r\n\r\n")
    head, _, body = message.partition("\r\n\r\n")
    lines = head.split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return PartResponse(status, headers, body)


def batch_responses(response: httpx.Response) -> list[PartResponse]:
    """The answers of every operation, change sets flattened, in order."""
    out: list[PartResponse] = []
    for part in _split(response.text, _boundary(response.headers["content-type"])):
        mime, _, inner = part.partition("\r\n\r\n")
        if "multipart/mixed" in mime.lower():
            for sub in _split(inner, _boundary(mime)):
                out.append(_http(sub))
        else:
            out.append(_http(part))
    return out


def post_batch(
    client: httpx.Client, root: str, items: list[Op | list[Op]], prefer: str | None = None
) -> httpx.Response:
    """POST a ``$batch`` of ``items`` to the service at ``root``."""
    content_type, body = batch_body(items)
    headers = {"Content-Type": content_type}
    if prefer:
        headers["Prefer"] = prefer
    return client.post(root + "$batch", content=body, headers=headers, timeout=60)


def error_message(response: httpx.Response) -> str:
    """The OData error message of a response (fails when it has none)."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"], body
    message: str = body["error"]["message"]
    return message
