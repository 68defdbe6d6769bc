"""Full reads of a Dataverse table cut into ``createdon`` ranges (the :class:`RangeReader` part).

Microsoft documents ``ge``/``gt``/``lt`` and ``$orderby`` on date columns but no ordering
comparison on ``uniqueidentifier`` keys, so the ranges cut on ``createdon``, a system column
every row has, set once on create. How many ranges comes from ``RetrieveTotalRecordCount``
(``$count`` stops at 5000), a snapshot Dataverse refreshes within 24 hours: an estimate, which
is all a range size needs. The bounds split [earliest, latest ``createdon``] into equal time
windows and are written in the precision the service writes ``createdon`` in, always with
``Z``, so that Python's string order of bounds and values is their time order.

A range reads ``createdon ge lower and createdon lt upper`` ordered by ``createdon`` then the
key, paged by ``@odata.nextLink``. Rows sharing one ``createdon`` may straddle a server page,
so each yielded page is cut after its last complete ``createdon`` (the rest opens the next
page): ``createdon gt last`` then resumes exactly after the page.

The checkpoint taken before a ranged load is a change-tracking delta link (see
:func:`change_checkpoint` for why its initial read cannot select the key alone).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from integrator.connectors.base import RangePage, Record
from integrator.connectors.dataverse.changes import read_changes
from integrator.connectors.http.fields import project
from integrator.connectors.http.lookup import check_row
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.service import ODataService
from integrator.errors import BadResponseError, RequestRejected

__all__ = [
    "RANGE_FIELD",
    "change_checkpoint",
    "checkpoint_fields",
    "format_instant",
    "key_bounds",
    "logical_name",
    "read_range",
    "record_count",
    "resume_condition",
]

#: the column full reads are cut on
RANGE_FIELD = "createdon"
_COUNT_FUNCTION = "RetrieveTotalRecordCount"


def _range_property(meta: EntitySetMetadata) -> str | None:
    if meta.info.fields.get(RANGE_FIELD) is None or RANGE_FIELD not in meta.properties:
        return None
    return meta.properties[RANGE_FIELD]


def logical_name(meta: EntitySetMetadata) -> str:
    """The table's logical name (``contact``), which messages such as
    ``RetrieveTotalRecordCount`` take instead of the entity set name (``contacts``)."""
    return meta.entity_type.rpartition(".")[2]


def record_count(connector: ODataService, entity: str) -> int:
    """How many rows ``entity`` holds by ``RetrieveTotalRecordCount`` (one request); a
    snapshot up to a day old, so an estimate."""
    name = logical_name(connector.entity(entity))
    literal = "'" + name.replace("'", "''") + "'"
    path = f"{_COUNT_FUNCTION}(EntityNames=[{quote(literal, safe='')}])"
    body = connector.client.get_json(path)
    collection = body.get("EntityRecordCountCollection")
    keys = collection.get("Keys") if isinstance(collection, dict) else None
    values = collection.get("Values") if isinstance(collection, dict) else None
    if isinstance(keys, list) and isinstance(values, list):
        for key, value in zip(keys, values, strict=False):
            if isinstance(key, str) and key.lower() == name.lower() and isinstance(value, int):
                return value
    raise BadResponseError(f"GET {_COUNT_FUNCTION}: the answer has no count for {name}")


def _extreme(connector: ODataService, entity: str, prop: str, direction: str) -> str | None:
    body = connector.client.get_json(
        quote(entity, safe=""),
        params={"$select": prop, "$orderby": f"{prop} {direction}", "$top": "1"},
    )
    rows = body.get("value")
    if not isinstance(rows, list):
        raise BadResponseError(f"GET {entity}: the answer has no 'value' list")
    if not rows:
        return None
    value = check_row(rows[0], entity).get(prop)
    if not isinstance(value, str):
        raise BadResponseError(f"GET {entity}: {prop} {value!r} is not a date and time")
    return value


def _fraction_digits(value: str) -> int:
    """How many fraction-of-second digits ``value`` (ISO-8601) is written with."""
    time = value.partition("T")[2]
    if "." not in time:
        return 0
    fraction = time.partition(".")[2]
    return len(fraction) - len(fraction.lstrip("0123456789"))


def _instant(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadResponseError(
            f"{RANGE_FIELD} {value!r} is not an ISO-8601 date and time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_instant(moment: datetime, digits: int) -> str:
    """``moment`` as ISO-8601 UTC with ``Z`` and ``digits`` (0-6) fraction digits, truncated."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    return text + "Z"


def key_bounds(connector: ODataService, entity: str, every: int) -> tuple[str, list[Any]] | None:
    """``("createdon", bounds)``: the instants cutting ``entity`` into ``ceil(count / every)``
    equal time windows (``[]`` when it holds ``every`` rows or fewer, by the count's estimate,
    or all rows share one instant); ``None`` when the table has no ``createdon``."""
    if every < 1:
        raise ValueError("every must be at least 1")
    meta = connector.entity(entity)
    prop = _range_property(meta)
    if prop is None:
        return None
    count = record_count(connector, entity)
    if count <= every:
        return RANGE_FIELD, []
    earliest = _extreme(connector, entity, prop, "asc")
    latest = _extreme(connector, entity, prop, "desc")
    if earliest is None or latest is None:
        return RANGE_FIELD, []
    digits = min(max(_fraction_digits(earliest), _fraction_digits(latest)), 6)
    start, end = _instant(earliest), _instant(latest)
    windows = math.ceil(count / every)
    bounds: list[str] = []
    for index in range(1, windows):
        bound = format_instant(start + (end - start) * index / windows, digits)
        if bound > format_instant(start, digits) and (not bounds or bound > bounds[-1]):
            bounds.append(bound)
    return RANGE_FIELD, bounds


def read_range(
    connector: ODataService,
    entity: str,
    fields: Sequence[str],
    *,
    lower: Any,
    upper: Any,
    after: Any,
    page_size: int | None = None,
) -> Iterator[RangePage]:
    """Pages of the rows with ``lower <= createdon < upper`` (``None``: open) and, when
    ``after`` is given, ``createdon > after``, in ``createdon`` then key order. Each page holds
    whole ``createdon`` instants; its ``last`` is its last record's ``createdon``. Records are
    what ``read`` gives for ``fields``."""
    meta = connector.entity(entity)
    prop = _range_property(meta)
    if prop is None:
        raise RequestRejected(f"{entity} has no {RANGE_FIELD} to read it by range")
    wanted = list(fields)
    helper = RANGE_FIELD not in wanted
    projection = project(connector.metadata(), meta, [*wanted, RANGE_FIELD] if helper else wanted)
    params = projection.params()
    conditions = [
        f"{prop} {op} {_literal(value)}"
        for op, value in (("ge", lower), ("lt", upper))
        if value is not None
    ]
    if after is not None:
        conditions.append(resume_condition(prop, after))
    if conditions:
        params["$filter"] = " and ".join(conditions)
    keys = [meta.properties.get(k, k) for k in meta.info.key]
    params["$orderby"] = ",".join(f"{p} asc" for p in [prop, *keys])
    held: list[tuple[Record, Any]] = []
    for body in connector.client.pages(
        quote(entity, safe=""), params=params, headers=connector.page_header(page_size)
    ):
        for row in body["value"]:
            checked = check_row(row, entity)
            held.append((projection.extract(checked), checked.get(prop)))
        if not held:
            continue
        cut = len(held)
        while cut > 0 and held[cut - 1][1] == held[-1][1]:
            cut -= 1
        if cut == 0:
            continue  # one instant fills all that is held: it goes on into the next page
        page, held = held[:cut], held[cut:]
        yield _page(page, helper)
    if held:
        yield _page(held, helper)


def _page(held: list[tuple[Record, Any]], helper: bool) -> RangePage:
    records = [record for record, _ in held]
    if helper:
        for record in records:
            del record[RANGE_FIELD]
    return RangePage(records, held[-1][1])


def resume_condition(prop: str, after: Any) -> str:
    """The ``$filter`` condition for the rows after a page whose last ``createdon`` is
    ``after``: ``gt after``; for a value written in whole seconds, ``ge`` the next second,
    which is the same when the service keeps whole seconds and, when it keeps fractions but
    writes them cut off, still leaves out the rest of that second already read."""
    literal = _literal(after)
    if _fraction_digits(literal) or isinstance(after, datetime):
        return f"{prop} gt {literal}"
    return f"{prop} ge {format_instant(_instant(literal) + timedelta(seconds=1), 0)}"


def _literal(value: Any) -> str:
    """A bound or resume point as a ``$filter`` date-time literal (no quotes, UTC)."""
    if isinstance(value, datetime):
        return format_instant(value, 6)
    problem = ValueError(f"{RANGE_FIELD} bound {value!r} is not an ISO-8601 date and time")
    if not isinstance(value, str):
        raise problem
    try:
        datetime.fromisoformat(value)  # refuse text that is not a date and time, not send it
    except ValueError:
        raise problem from None
    return value


def checkpoint_fields(meta: EntitySetMetadata, fields: Sequence[str] | None) -> list[str]:
    """The fields a checkpoint's initial read selects: what a later ``read_changes`` of
    ``fields`` reads from its delta link (the lookups of dotted fields in place of them);
    every field of the table when ``fields`` is ``None``."""
    if fields is None:
        return list(meta.info.fields)
    plain = [f for f in fields if "." not in f]
    lookups = sorted({f.partition(".")[0] for f in fields if "." in f} - set(plain))
    return [*plain, *lookups]


def change_checkpoint(
    connector: ODataService, entity: str, fields: Sequence[str] | None = None
) -> str | None:
    """A delta link taken now, by an initial change-tracking read paged to its end.

    A Dataverse delta link keeps the ``$select`` of the read that made it: reading changes
    from it gives those columns only. So the initial read selects what a later
    ``read_changes(entity, fields)`` needs, or every column when ``fields`` is ``None``
    (correct for any later fields, at the cost of reading them all once). Reading changes from
    it gives what changed after this call; ``None`` when the table has no key."""
    meta = connector.entity(entity)
    if not meta.info.key:
        return None
    checkpoint: str | None = None
    for batch in read_changes(connector, entity, checkpoint_fields(meta, fields), checkpoint=None):
        checkpoint = batch.checkpoint or checkpoint
    return checkpoint
