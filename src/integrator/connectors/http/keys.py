"""Key segments and key filters, with every literal escaped.

A string literal doubles its quotes (``'O''Brien'``) and is then percent-encoded for the URL
path, so ``&``, ``#``, ``/``, ``?``, ``%`` and spaces in a key cannot change the URL's meaning.
Filters are built as syntax trees and rendered by :func:`integrator.odata.to_odata`, then sent
as query parameters that httpx encodes.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from integrator.connectors.base import FieldType
from integrator.odata.ast import And, Compare, Expr, Field, Literal, Or

__all__ = ["key_path", "key_predicate", "keys_filter", "literal_text"]

# Characters OData key segments use that need no escaping in a URL path.
_PATH_SAFE = "'(),=:@!$*-._~"


def literal_text(value: Any, type_: FieldType | None = None, enum_type: str | None = None) -> str:
    """``value`` as an OData literal (not yet URL-encoded).

    Strings are quoted with embedded quotes doubled; GUIDs (by ``type_`` ``guid``/``lookup``)
    are bare; enums with ``enum_type`` are qualified (``Ns.NoYes'Yes'``).
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written as an OData literal")
        return repr(value)
    text = str(value)
    if type_ in ("guid", "lookup"):
        return str(uuid.UUID(text))
    quoted = "'" + text.replace("'", "''") + "'"
    if type_ == "enum" and enum_type:
        return f"{enum_type}{quoted}"
    return quoted


def key_predicate(
    key: Mapping[str, Any],
    types: Mapping[str, FieldType] | None = None,
    enum_types: Mapping[str, str] | None = None,
) -> str:
    """``(name='value',...)`` for ``key``, percent-encoded for a URL path."""
    types = types or {}
    enum_types = enum_types or {}
    items = ",".join(
        f"{name}={literal_text(value, types.get(name), enum_types.get(name))}"
        for name, value in key.items()
    )
    return quote(f"({items})", safe=_PATH_SAFE)


def key_path(
    entity_set: str,
    key: Mapping[str, Any],
    types: Mapping[str, FieldType] | None = None,
    enum_types: Mapping[str, str] | None = None,
) -> str:
    """``entityset(name='value',...)``: the path of one record by its key or alternate key."""
    return quote(entity_set, safe="") + key_predicate(key, types, enum_types)


def _literal(value: Any, type_: FieldType | None) -> Literal:
    if value is None:
        return Literal(None, "null")
    if isinstance(value, bool):
        return Literal(value, "boolean")
    if isinstance(value, int):
        return Literal(value, "integer")
    if isinstance(value, float):
        return Literal(value, "decimal")
    if type_ in ("guid", "lookup"):
        return Literal(str(uuid.UUID(str(value))), "guid")
    return Literal(str(value), "string")


def keys_filter(
    names: Sequence[str],
    keys: Sequence[Sequence[Any]],
    types: Mapping[str, FieldType] | None = None,
) -> Expr:
    """A ``$filter`` tree matching any of ``keys`` (tuples of values for ``names``).

    Key parts that hold one value in every key (the company, the organization) are tested once:
    ``dataAreaId eq 'usmf' and (CustomerAccount eq 'A' or CustomerAccount eq 'B')``.
    """
    types = types or {}
    if not keys:
        raise ValueError("keys_filter needs at least one key")
    columns = list(zip(*keys, strict=True))
    shared = [i for i, column in enumerate(columns) if len(names) > 1 and len(set(column)) == 1]
    varying = [i for i in range(len(names)) if i not in shared]
    common: list[Expr] = [
        Compare("eq", Field(names[i]), _literal(columns[i][0], types.get(names[i]))) for i in shared
    ]
    alternatives: list[Expr] = []
    distinct = dict.fromkeys(tuple(key[i] for i in varying) for key in keys) if varying else {}
    for values in distinct:
        compares: list[Expr] = [
            Compare("eq", Field(names[i]), _literal(value, types.get(names[i])))
            for i, value in zip(varying, values, strict=True)
        ]
        alternatives.append(compares[0] if len(compares) == 1 else And(tuple(compares)))
    if alternatives:
        common.append(alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives)))
    return common[0] if len(common) == 1 else And(tuple(common))
