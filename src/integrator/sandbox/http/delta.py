"""Change tracking (``Prefer: odata.track-changes``): delta tokens, and pages of what changed
since one: created or updated rows, then ``$deletedEntity`` entries for deleted ones.

Versions come from the store's single version counter (``integrator.sandbox.stores.changes``):
rows carry ``versionnumber`` and deletions leave tombstones, both from the same counter, so a
page is the next ``page_size`` versions after the previous page's last one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from integrator.sandbox.http.errors import (
    BAD_REQUEST,
    DELTA_TOKEN_EXPIRED,
    DELTA_TOKEN_INVALID,
    ODataError,
)
from integrator.sandbox.http.keys import format_key
from integrator.sandbox.http.model import ServedSet
from integrator.sandbox.http.paging import decode_token
from integrator.sandbox.http.query import QueryOptions, compile_sql
from integrator.sandbox.http.records import Annotations, RowReader, output_properties
from integrator.sandbox.stores.changes import current_version, token_expired

__all__ = ["DeltaPage", "check_delta_options", "high_water", "read_delta", "since_version"]

_TOMBSTONES = sa.table(
    "_ct_tombstones", sa.column("version"), sa.column("entity_set"), sa.column("key")
)


@dataclass
class DeltaPage:
    """Changed records and deleted keys of one delta page; ``next_token`` unless it is the last."""

    records: list[dict[str, Any]]
    deleted: list[dict[str, Any]]
    next_token: dict[str, Any] | None
    upto: int


def check_delta_options(options: QueryOptions) -> None:
    """Refuse the query options Dataverse does not allow with change tracking."""
    if options.filter is not None or options.orderby or options.expand or options.top is not None:
        raise ODataError(
            400,
            BAD_REQUEST,
            "$filter, $orderby, $expand and $top cannot be used with change tracking",
        )


def high_water(conn: sqlite3.Connection) -> int:
    """The version a delta token taken now carries."""
    return current_version(conn)


def since_version(conn: sqlite3.Connection, served: ServedSet, token: str) -> int:
    """The version a ``$deltatoken`` stands for.

    400 ``InvalidDeltaToken`` when it was not issued for this set; 410 ``ExpiredVersionStamp``
    when the changes since it are no longer kept (read everything again).
    """
    try:
        payload = decode_token(token, "$deltatoken")
    except ODataError:
        raise ODataError(
            400, DELTA_TOKEN_INVALID, f"The $deltatoken '{token}' was not issued by this service"
        ) from None
    version = payload.get("v")
    if payload.get("s") != served.name or not isinstance(version, int):
        raise ODataError(
            400, DELTA_TOKEN_INVALID, f"The $deltatoken '{token}' was not issued for {served.name}"
        )
    if token_expired(conn, version):
        raise ODataError(
            410,
            DELTA_TOKEN_EXPIRED,
            f"The $deltatoken for {served.name} has expired: the changes since it are no longer"
            " kept. Read the whole set again with Prefer: odata.track-changes.",
        )
    return version


def read_delta(
    conn: sqlite3.Connection,
    served: ServedSet,
    options: QueryOptions,
    *,
    since: int,
    page_size: int,
    annotations: Annotations,
) -> DeltaPage:
    """One page of changes to ``served`` after version ``since``, in version order."""
    state: dict[str, Any] = {}
    if options.skiptoken is not None:
        state = decode_token(options.skiptoken, "$skiptoken")
    upto = int(state["u"]) if "u" in state else current_version(conn)
    after = int(state.get("a", since))
    version_col = served.table.c["versionnumber"]
    props = output_properties(served, options.select)
    reader = RowReader(served, props, annotations=annotations, etag=True)
    out_columns = [p.column for p in props] + reader.extra_columns()
    columns = list(dict.fromkeys([*out_columns, "versionnumber"]))
    version_at = columns.index("versionnumber")
    stmt = (
        sa.select(*(served.table.c[c] for c in columns))
        .where(version_col > after, version_col <= upto)
        .order_by(version_col)
        .limit(page_size + 1)
    )
    sql, params = compile_sql(stmt)
    rows = conn.execute(sql, params).fetchall()
    tomb_stmt = (
        sa.select(_TOMBSTONES.c.version, _TOMBSTONES.c.key)
        .where(
            _TOMBSTONES.c.entity_set == served.name,
            _TOMBSTONES.c.version > after,
            _TOMBSTONES.c.version <= upto,
        )
        .order_by(_TOMBSTONES.c.version)
        .limit(page_size + 1)
    )
    sql, params = compile_sql(tomb_stmt)
    tombs = conn.execute(sql, params).fetchall()
    merged = sorted(
        [(int(r[version_at]), 0, r) for r in rows] + [(int(t[0]), 1, t) for t in tombs],
        key=lambda item: item[0],
    )
    more = len(merged) > page_size
    merged = merged[:page_size]
    changed = [r for _, kind, r in merged if kind == 0]
    records = reader.records([r[: len(out_columns)] for r in changed])
    deleted = [_deleted_entry(served, orjson.loads(t[1])) for _, kind, t in merged if kind == 1]
    next_token = {"u": upto, "a": merged[-1][0], "s": since} if more and merged else None
    return DeltaPage(records, deleted, next_token, upto)


def _deleted_entry(served: ServedSet, key: dict[str, Any]) -> dict[str, Any]:
    if len(served.key) == 1:
        ident: Any = key.get(served.key[0])
    else:
        ident = format_key(served, key)[1:-1]
    return {"id": ident, "reason": "deleted", **key}
