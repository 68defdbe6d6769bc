"""Keyset paging and the opaque tokens in ``@odata.nextLink`` / ``@odata.deltaLink``.

A page continues strictly after the previous page's last sort values (``$orderby`` plus the key),
so the database seeks instead of skipping rows: page 100 costs what page 1 does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from integrator.sandbox.http.errors import BAD_REQUEST, ODataError
from integrator.sandbox.http.messages import Prefer

__all__ = [
    "COUNT_LIMIT",
    "TOTAL_RECORD_COUNT",
    "TOTAL_RECORD_COUNT_EXCEEDED",
    "dataverse_count",
    "decode_token",
    "encode_token",
    "keyset_after",
]

#: the largest ``@odata.count`` Dataverse returns
COUNT_LIMIT = 5000
TOTAL_RECORD_COUNT = "Microsoft.Dynamics.CRM.totalrecordcount"
TOTAL_RECORD_COUNT_EXCEEDED = "Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"


def keyset_after(
    columns: Sequence[tuple[ColumnElement[Any], bool]], values: Sequence[Any]
) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``columns`` (``(column, descending)``).

    SQLite sorts NULL first ascending and last descending; the condition follows that, so paging
    over nullable columns neither skips nor repeats rows.
    """
    if all(not desc for _, desc in columns) and all(v is not None for v in values):
        if len(columns) == 1:
            single: ColumnElement[bool] = columns[0][0] > values[0]
            return single
        rows: ColumnElement[bool] = sa.tuple_(*(c for c, _ in columns)) > sa.tuple_(
            *(sa.literal(v) for v in values)
        )
        return rows
    alternatives: list[ColumnElement[bool]] = []
    for i, (col, desc) in enumerate(columns):
        value = values[i]
        after: ColumnElement[bool] | None
        if desc:
            after = None if value is None else sa.or_(col < value, col.is_(None))
        else:
            after = col.is_not(None) if value is None else col > value
        if after is None:
            continue
        equal = [
            c.is_(None) if v is None else c == v
            for (c, _), v in zip(columns, values[:i], strict=False)
        ]
        alternatives.append(sa.and_(*equal, after) if equal else after)
    return sa.or_(*alternatives) if alternatives else sa.false()


def encode_token(payload: dict[str, Any]) -> str:
    """An opaque, URL-safe token carrying ``payload``."""
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode("ascii").rstrip("=")


def decode_token(token: str, what: str) -> dict[str, Any]:
    """The payload of a token made by :func:`encode_token`; 400 naming ``what`` when it is not."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = orjson.loads(raw)
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise ODataError(400, BAD_REQUEST, f"The {what} '{token}' is not valid") from None
    if not isinstance(payload, dict):
        raise ODataError(400, BAD_REQUEST, f"The {what} '{token}' is not valid")
    return payload


def dataverse_count(count: int | None, prefer: Prefer) -> dict[str, Any]:
    """Dataverse's count annotations for a page whose filter selects ``count`` rows (``None``
    without ``$count=true``): ``@odata.count`` up to 5000 and, when asked for,
    ``totalrecordcount``/``totalrecordcountlimitexceeded`` ("Count rows using OData",
    powerapps-docs/developer/data-platform/webapi/query/count-rows.md)."""
    out: dict[str, Any] = {}
    if count is not None:
        out["@odata.count"] = min(count, COUNT_LIMIT)
    if prefer.wants(TOTAL_RECORD_COUNT):
        out[f"@{TOTAL_RECORD_COUNT}"] = -1 if count is None else min(count, COUNT_LIMIT)
    if prefer.wants(TOTAL_RECORD_COUNT_EXCEEDED):
        out[f"@{TOTAL_RECORD_COUNT_EXCEEDED}"] = count is not None and count > COUNT_LIMIT
    return out
