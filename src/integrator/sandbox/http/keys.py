"""Key segments of OData URLs: ``contacts(<guid>)``, ``contacts(msdynce_contactnumber='X')``,
``CustomersV2(dataAreaId='usmf',CustomerAccount='X')``: parse them, match them to a set's keys,
and write them back for ``OData-EntityId`` headers and links.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from integrator.sandbox.http.errors import INVALID_KEY, ODataError
from integrator.sandbox.http.model import ServedSet

__all__ = ["format_key", "parse_key_segment", "resolve_key", "split_resource"]

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENUM = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*'")


def split_resource(path: str) -> tuple[str, str | None, str]:
    """Split ``contacts(...)/rest`` into (``contacts``, key text or ``None``, ``rest``)."""
    paren = path.find("(")
    slash = path.find("/")
    if paren == -1 or (slash != -1 and slash < paren):
        name, _, rest = path.partition("/")
        return name, None, rest
    depth, in_string, i = 0, False, paren
    while i < len(path):
        ch = path[i]
        if in_string:
            if ch == "'":
                if i + 1 < len(path) and path[i + 1] == "'":
                    i += 1
                else:
                    in_string = False
        elif ch == "'":
            in_string = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                rest = path[i + 1 :]
                if rest and not rest.startswith("/"):
                    raise ODataError(400, INVALID_KEY, f"Bad key segment in '{path}'")
                return path[:paren], path[paren + 1 : i], rest[1:]
        i += 1
    raise ODataError(400, INVALID_KEY, f"Unclosed key segment in '{path}'")


def _parse_value(text: str, pos: int) -> tuple[Any, int]:
    if text.startswith("'", pos):
        out: list[str] = []
        i = pos + 1
        while i < len(text):
            if text[i] == "'":
                if text.startswith("''", i):
                    out.append("'")
                    i += 2
                    continue
                return "".join(out), i + 1
            out.append(text[i])
            i += 1
        raise ODataError(400, INVALID_KEY, f"Unterminated string in key '({text})'")
    enum = _ENUM.match(text, pos)
    if enum:
        return _parse_value(text, enum.end() - 1)
    guid = _GUID.match(text, pos)
    if guid:
        return guid.group(0).lower(), guid.end()
    for word, value in (("null", None), ("true", True), ("false", False)):
        if text.startswith(word, pos):
            return value, pos + len(word)
    number = _NUMBER.match(text, pos)
    if number:
        literal = number.group(0)
        is_float = number.group(1) or number.group(2)
        return (float(literal) if is_float else int(literal)), number.end()
    raise ODataError(400, INVALID_KEY, f"Bad key value at position {pos} in '({text})'")


def parse_key_segment(text: str) -> dict[str, Any] | Any:
    """Parse what is inside the parentheses: a dict for ``name=value,...``, else the one value."""
    text = text.strip()
    name = _NAME.match(text)
    if name and text[name.end() : name.end() + 1] == "=":
        values: dict[str, Any] = {}
        pos = 0
        while True:
            name = _NAME.match(text, pos)
            if not name or text[name.end() : name.end() + 1] != "=":
                raise ODataError(400, INVALID_KEY, f"Bad key segment '({text})'")
            value, pos = _parse_value(text, name.end() + 1)
            if name.group(0) in values:
                raise ODataError(400, INVALID_KEY, f"Key property '{name.group(0)}' given twice")
            values[name.group(0)] = value
            if pos == len(text):
                return values
            if text[pos] != ",":
                raise ODataError(400, INVALID_KEY, f"Bad key segment '({text})' at {pos}")
            pos += 1
    value, pos = _parse_value(text, 0)
    if pos != len(text):
        raise ODataError(400, INVALID_KEY, f"Bad key segment '({text})' at position {pos}")
    return value


def resolve_key(served: ServedSet, text: str) -> dict[str, Any]:
    """The key properties and values named by key segment ``text`` of ``served``.

    The segment must name the primary key or one alternate key, all of its parts. Values are
    checked against the properties' types (a GUID key must be a GUID).
    """
    parsed = parse_key_segment(text)
    if not isinstance(parsed, dict):
        if len(served.key) != 1:
            raise ODataError(
                400,
                INVALID_KEY,
                f"{served.name} has a composite key ({', '.join(served.key)}): name each part",
            )
        parsed = {served.key[0]: parsed}
    names = set(parsed)
    candidates = [served.key, *served.entity_set.alternate_keys]
    if not any(names == set(k) for k in candidates):
        described = "; ".join("(" + ", ".join(k) + ")" for k in candidates)
        raise ODataError(
            400,
            INVALID_KEY,
            f"The key ({', '.join(parsed)}) does not match a key of {served.name}: {described}",
        )
    for prop_name, value in parsed.items():
        prop = served.properties.get(prop_name)
        if prop is None:
            raise ODataError(400, INVALID_KEY, f"{served.name} has no property '{prop_name}'")
        if value is None:
            raise ODataError(400, INVALID_KEY, f"Key property '{prop_name}' cannot be null")
        if prop.type == "guid":
            try:
                parsed[prop_name] = str(uuid.UUID(str(value)))
            except ValueError:
                raise ODataError(
                    400, INVALID_KEY, f"Key property '{prop_name}': '{value}' is not a GUID"
                ) from None
        elif prop.type in ("string", "enum") and not isinstance(value, str):
            parsed[prop_name] = str(value)
        elif prop.type == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
            raise ODataError(
                400, INVALID_KEY, f"Key property '{prop_name}': {value!r} is not an integer"
            )
        if prop_name == served.company_field:
            parsed[prop_name] = str(parsed[prop_name]).lower()
    return parsed


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if _GUID.fullmatch(text):
        return text
    return "'" + text.replace("'", "''") + "'"


def _key_literal(served: ServedSet, name: str, value: Any) -> str:
    prop = served.properties.get(name)
    if prop is not None and prop.type in ("string", "enum"):
        return "'" + str(value).replace("'", "''") + "'"
    return _literal(value)


def format_key(served: ServedSet, values: Mapping[str, Any]) -> str:
    """The key segment for a record: ``(<guid>)`` or ``(dataAreaId='usmf',CustomerAccount='X')``."""
    if len(served.key) == 1:
        return f"({_key_literal(served, served.key[0], values[served.key[0]])})"
    parts = (f"{k}={_key_literal(served, k, values[k])}" for k in served.key)
    return "(" + ",".join(parts) + ")"
