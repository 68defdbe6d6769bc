"""Read stored rows by their keys in bulk: the existence read before an upsert, and the
per-page lookup of related records where ``$expand`` is not allowed (change tracking)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from integrator.connectors.http.batch import BatchOperation, BatchPart
from integrator.connectors.http.client import PageTrail
from integrator.connectors.http.keys import keys_filter
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.responses import describe_url
from integrator.connectors.http.service import ODataService
from integrator.errors import BadResponseError
from integrator.odata.filter import to_odata

__all__ = ["check_row", "key_read_paths", "read_by_keys", "rows_of_part"]

_QUERY_SAFE = "$,'()"


def key_read_paths(
    connector: ODataService,
    meta: EntitySetMetadata,
    key: Sequence[str],
    keys: Sequence[tuple[Any, ...]],
    wanted: Sequence[str],
) -> list[str]:
    """``GET`` paths reading the rows whose ``key`` holds one of ``keys`` (key and ``wanted``
    properties selected), ``keys_per_read`` keys per path."""
    key_props = [meta.properties[k] for k in key]
    select = ",".join(dict.fromkeys([*key_props, *wanted]))
    types = {meta.properties[k]: meta.info.fields[k].type for k in key}
    enum_types = {meta.properties.get(k, k): v for k, v in meta.enum_types.items()}
    size = connector.settings.keys_per_read
    paths: list[str] = []
    for start in range(0, len(keys), size):
        expr = keys_filter(key_props, keys[start : start + size], types)
        params = {
            "$select": select,
            "$filter": to_odata(expr, dialect=connector.dialect.name, enum_types=enum_types),
            **connector.dialect.query_options(),
        }
        query = urlencode(params, safe=_QUERY_SAFE, quote_via=quote)
        paths.append(f"{quote(meta.info.name, safe='')}?{query}")
    return paths


def read_by_keys(
    connector: ODataService,
    meta: EntitySetMetadata,
    key: Sequence[str],
    keys: Sequence[tuple[Any, ...]],
    wanted: Sequence[str],
) -> list[Mapping[str, Any]]:
    """The stored rows of ``meta``'s entity set whose ``key`` fields hold one of ``keys``.

    Selects the key and the ``wanted`` properties. One ``GET`` when the keys fit one filter,
    otherwise one ``$batch`` of ``GET``s (per 1000 filters); a part that fails transiently is
    read again on its own, with retries.
    """
    if not keys:
        return []
    paths = key_read_paths(connector, meta, key, keys, wanted)
    rows: list[Mapping[str, Any]] = []
    header = connector.page_header(None)
    if len(paths) == 1:
        for body in connector.client.pages(paths[0], headers=header):
            rows.extend(check_row(r, meta.info.name) for r in body["value"])
    else:
        for start in range(0, len(paths), 1000):
            chunk = paths[start : start + 1000]
            parts = connector.client.batch([BatchOperation("GET", p, None, header) for p in chunk])
            for path, part in zip(chunk, parts, strict=True):
                rows.extend(rows_of_part(connector, path, part, header, meta.info.name))
    return rows


def rows_of_part(
    connector: ODataService, path: str, part: BatchPart, header: dict[str, str], entity: str
) -> list[Mapping[str, Any]]:
    """The rows a ``$batch`` part answering ``GET path`` holds, following its next links.

    A transient failure reads ``path`` again on its own (with retries); a refusal raises.
    """
    client = connector.client
    body = client.part_json(BatchOperation("GET", path, None, header), part, headers=header)
    if not isinstance(body.get("value"), list):
        url = client.url_text(path)
        raise BadResponseError(f"GET {describe_url(url)}: the answer has no 'value' list")
    rows = [check_row(r, entity) for r in body["value"]]
    next_link = body.get("@odata.nextLink")
    if isinstance(next_link, str):
        trail = PageTrail(client, path)
        trail.follow(next_link, came_from=client.url_text(path))
        for more in client.pages(next_link, headers=header, trail=trail):
            rows.extend(check_row(r, entity) for r in more["value"])
    return rows


def check_row(row: Any, entity: str) -> Mapping[str, Any]:
    """``row`` if it is a JSON object; ``BadResponseError`` otherwise."""
    if not isinstance(row, Mapping):
        shown = repr(row)[:60]
        raise BadResponseError(f"{entity}: a record in the answer is not a JSON object: {shown}")
    return row
