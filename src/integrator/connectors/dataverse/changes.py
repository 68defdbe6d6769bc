"""Dataverse change tracking: ``Prefer: odata.track-changes`` and delta links as checkpoints.

The first read (no checkpoint) returns every row and, on its last page, an
``@odata.deltaLink``; that link, kept unchanged, is the checkpoint. Reading it returns the rows
created or updated since, and deleted rows as ``$deletedEntity`` entries (reported as deleted
keys). An expired token is ``RequestRejected`` with code ``checkpoint-expired``: the caller
reads everything again.

``$expand`` is not allowed with change tracking, so dotted lookups are resolved per page: the
page's lookup ids not seen before are read from each target entity set by key. Those reads
travel in one ``$batch`` together with the ``GET`` of the next page, so a page costs one
request whether or not it has lookups to resolve (plus one for the last page's lookups).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from integrator.connectors.base import ChangeBatch, Record
from integrator.connectors.http.batch import BatchOperation
from integrator.connectors.http.client import PageTrail
from integrator.connectors.http.fields import project
from integrator.connectors.http.lookup import check_row, key_read_paths, rows_of_part
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.responses import describe_url
from integrator.connectors.http.service import ODataService
from integrator.errors import BadResponseError, RequestRejected

__all__ = ["read_changes"]

_LOGICAL_NAME = "@Microsoft.Dynamics.CRM.lookuplogicalname"


def read_changes(
    connector: ODataService, entity: str, fields: Sequence[str], *, checkpoint: str | None
) -> Iterator[ChangeBatch]:
    """Yield pages of changes; the last carries the new checkpoint (the delta link)."""
    meta = connector.entity(entity)
    if not meta.info.key:
        raise RequestRejected(f"{entity} has no key to report deletions by")
    plain = [f for f in fields if "." not in f]
    dotted = [f for f in fields if "." in f]
    lookups = _Lookups(connector, meta, dotted)
    helpers = sorted(set(lookups.wanted) - set(plain))
    projection = project(connector.metadata(), meta, [*plain, *helpers])
    size = connector.page_header(None)["Prefer"]
    headers = {
        "Prefer": f'odata.track-changes,{size},odata.include-annotations="{_LOGICAL_NAME[1:]}"'
    }
    key_props = {k: meta.properties.get(k, k) for k in meta.info.key}
    if checkpoint is None:
        url = quote(entity, safe="")
        params = {"$select": ",".join(projection.select)}
        trail = PageTrail(connector.client, url, params)
        body = connector.client.get_json(url, params=params, headers=headers)
    else:
        url = _own_delta_link(connector, entity, checkpoint)
        trail = PageTrail(connector.client, url)
        body = connector.client.get_json(url, headers=headers)
    while True:
        values = body.get("value")
        next_link = body.get("@odata.nextLink")
        delta = body.get("@odata.deltaLink")
        if not isinstance(values, list):
            raise BadResponseError(f"GET {describe_url(url)}: the answer has no 'value' list")
        if next_link is not None and not isinstance(next_link, str):
            raise BadResponseError(f"GET {describe_url(url)}: @odata.nextLink is not a URL")
        if next_link is None and not isinstance(delta, str):
            raise BadResponseError(
                f"GET {describe_url(url)}: change tracking answer ends without @odata.deltaLink"
            )
        raw: list[Mapping[str, Any]] = []
        deleted: list[Mapping[str, Any]] = []
        for item in values:
            row = check_row(item, entity)
            if _is_deletion(row):
                deleted.append(_deleted_key(row, key_props))
            else:
                raw.append(row)
        if next_link is not None:
            trail.follow(next_link, came_from=url)
        following = lookups.fetch(raw, next_link, headers)
        records = [projection.extract(row) for row in raw]
        lookups.fill(raw, records)
        for record in records:
            for name in helpers:
                del record[name]
        yield ChangeBatch(records, deleted, None if next_link else str(delta))
        if following is None:
            return
        url, body = str(next_link), following


class _Lookups:
    """Values of dotted lookup fields (``parentcustomerid.accountnumber``) by target id."""

    def __init__(self, connector: ODataService, meta: EntitySetMetadata, dotted: list[str]) -> None:
        self.connector = connector
        self.meta = meta
        self.wanted: dict[str, list[str]] = {}
        for name in dotted:
            lookup, _, field = name.partition(".")
            self.wanted.setdefault(lookup, []).append(field)
        #: lookup -> target id (lower case) -> field -> value
        self.values: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in self.wanted}

    def _reads(self, rows: list[Mapping[str, Any]]) -> list[tuple[str, EntitySetMetadata, str]]:
        service = self.connector.metadata()
        reads: list[tuple[str, EntitySetMetadata, str]] = []
        for lookup, wanted in self.wanted.items():
            prop = self.meta.properties.get(lookup, lookup)
            known = self.values[lookup]
            by_type: dict[str, set[str]] = {}
            for row in rows:
                target_id = row.get(prop)
                if target_id is None or str(target_id).lower() in known:
                    continue
                logical = row.get(prop + _LOGICAL_NAME)
                targets = (
                    [str(logical)]
                    if logical
                    else [
                        n.target_type.rpartition(".")[2] for n in self.meta.navigations_of(lookup)
                    ]
                )
                for target in targets:
                    by_type.setdefault(target, set()).add(str(target_id).lower())
            for logical, ids in sorted(by_type.items()):
                set_name = service.set_of_type.get(logical)
                target_meta = service.entity_sets.get(set_name) if set_name else None
                if target_meta is None or not target_meta.info.key:
                    continue
                props = [target_meta.properties[w] for w in wanted if w in target_meta.properties]
                if not props:
                    continue
                keys = [(i,) for i in sorted(ids)]
                for path in key_read_paths(
                    self.connector, target_meta, target_meta.info.key[:1], keys, props
                ):
                    reads.append((lookup, target_meta, path))
        return reads

    def fetch(
        self, rows: list[Mapping[str, Any]], next_link: str | None, headers: dict[str, str]
    ) -> dict[str, Any] | None:
        """Read the lookups of ``rows`` and the next page in one request; the next page."""
        client = self.connector.client
        reads = self._reads(rows) if self.wanted else []
        if not reads:
            return client.get_json(next_link, headers=headers) if next_link else None
        header = self.connector.page_header(None)
        operations = [BatchOperation("GET", path, None, header) for _, _, path in reads]
        if next_link:
            operations.append(BatchOperation("GET", next_link, None, headers))
        parts = client.batch(operations)
        for (lookup, target_meta, path), part in zip(reads, parts, strict=False):
            found = rows_of_part(self.connector, path, part, header, target_meta.info.name)
            self._absorb(lookup, target_meta, found)
        for lookup in self.wanted:  # ids asked for but not found: known to be empty
            prop = self.meta.properties.get(lookup, lookup)
            for row in rows:
                if row.get(prop) is not None:
                    self.values[lookup].setdefault(str(row[prop]).lower(), {})
        if not next_link:
            return None
        return client.part_json(operations[-1], parts[-1], headers=headers)

    def _absorb(
        self, lookup: str, target_meta: EntitySetMetadata, rows: list[Mapping[str, Any]]
    ) -> None:
        pk = target_meta.properties[target_meta.info.key[0]]
        for row in rows:
            self.values[lookup][str(row.get(pk)).lower()] = {
                w: row.get(target_meta.properties[w])
                for w in self.wanted[lookup]
                if w in target_meta.properties
            }

    def fill(self, rows: list[Mapping[str, Any]], records: list[Record]) -> None:
        """Set each record's dotted fields from the values read."""
        for lookup, wanted in self.wanted.items():
            prop = self.meta.properties.get(lookup, lookup)
            known = self.values[lookup]
            for row, record in zip(rows, records, strict=True):
                target_id = row.get(prop)
                related = known.get(str(target_id).lower(), {}) if target_id is not None else {}
                for field in wanted:
                    record[f"{lookup}.{field}"] = related.get(field)


def _deleted_key(row: Mapping[str, Any], key_props: Mapping[str, str]) -> dict[str, Any]:
    # Dataverse names a deleted row by its GUID in ``id``; a composite key (as CDS 1.0 entities
    # have) is only known when the entry carries the key properties themselves.
    if len(key_props) > 1 and all(p in row for p in key_props.values()):
        return {k: row[p] for k, p in key_props.items()}
    first = next(iter(key_props))
    return {first: row.get(key_props[first], row.get("id"))}


def _own_delta_link(connector: ODataService, entity: str, checkpoint: str) -> str:
    """``checkpoint`` when it is a delta link of this service; otherwise the service moved (a
    new address) and the link is as good as expired: the caller reads everything again."""
    root = str(connector.client.base_url)
    if not checkpoint.startswith(root):
        raise RequestRejected(
            f"the change-tracking checkpoint of {entity} belongs to another service address "
            f"than {root}",
            code="checkpoint-expired",
        )
    return checkpoint


def _is_deletion(row: Mapping[str, Any]) -> bool:
    context = row.get("@odata.context")
    return (isinstance(context, str) and context.endswith("$deletedEntity")) or (
        row.get("reason") == "deleted"
    )
