"""Dataverse change tracking: ``Prefer: odata.track-changes`` and delta links as checkpoints.

The first read (no checkpoint) returns every row and, on its last page, an
``@odata.deltaLink``; that link, kept unchanged, is the checkpoint. Reading it returns the rows
created or updated since, and deleted rows as ``$deletedEntity`` entries (reported as deleted
keys by primary key). An expired token is ``RequestRejected`` with code
``checkpoint-expired``: the caller reads everything again.

``$expand`` is not allowed with change tracking, so dotted lookups are resolved per page: the
lookup ids of the page are read from each target entity set in one bulk request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from integrator.connectors.base import ChangeBatch, Record
from integrator.connectors.http.fields import project
from integrator.connectors.http.lookup import check_row, read_by_keys
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.responses import describe_url
from integrator.errors import BadResponseError, RequestRejected

if TYPE_CHECKING:
    from integrator.connectors.dataverse.connector import DataverseConnector

__all__ = ["read_changes"]

_LOGICAL_NAME = "@Microsoft.Dynamics.CRM.lookuplogicalname"


def read_changes(
    connector: DataverseConnector, entity: str, fields: Sequence[str], *, checkpoint: str | None
) -> Iterator[ChangeBatch]:
    """Yield pages of changes; the last carries the new checkpoint (the delta link)."""
    meta = connector.entity(entity)
    if not meta.info.key:
        raise RequestRejected(f"{entity} has no key to report deletions by")
    plain = [f for f in fields if "." not in f]
    dotted = [f for f in fields if "." in f]
    lookups = {f.partition(".")[0] for f in dotted}
    projection = project(connector.metadata(), meta, [*plain, *sorted(lookups - set(plain))])
    size = connector.page_header(None)["Prefer"]
    headers = {
        "Prefer": f'odata.track-changes,{size},odata.include-annotations="{_LOGICAL_NAME[1:]}"'
    }
    if checkpoint is None:
        url = quote(entity, safe="")
        params: dict[str, str] | None = {"$select": ",".join(projection.select)}
    else:
        url, params = checkpoint, None
    key_props = {k: meta.properties.get(k, k) for k in meta.info.key}
    for body in connector.client.pages(url, params=params, headers=headers):
        records: list[Record] = []
        raw: list[Mapping[str, Any]] = []
        deleted: list[Mapping[str, Any]] = []
        for item in body["value"]:
            row = check_row(item, entity)
            if _is_deletion(row):
                deleted.append(_deleted_key(row, key_props))
            else:
                raw.append(row)
        records = [projection.extract(row) for row in raw]
        if dotted:
            _resolve_dotted(connector, meta, raw, records, dotted)
            for record in records:
                for name in lookups - set(plain):
                    record.pop(name, None)
        delta = body.get("@odata.deltaLink")
        if body.get("@odata.nextLink") is None and not isinstance(delta, str):
            raise BadResponseError(
                f"GET {describe_url(url)}: change tracking answer ends without @odata.deltaLink"
            )
        yield ChangeBatch(records, deleted, delta if isinstance(delta, str) else None)


def _deleted_key(row: Mapping[str, Any], key_props: Mapping[str, str]) -> dict[str, Any]:
    # Dataverse names a deleted row by its GUID in ``id``; a composite key (as CDS 1.0 entities
    # have) is only known when the entry carries the key properties themselves.
    if len(key_props) > 1 and all(p in row for p in key_props.values()):
        return {k: row[p] for k, p in key_props.items()}
    first = next(iter(key_props))
    return {first: row.get(key_props[first], row.get("id"))}


def _is_deletion(row: Mapping[str, Any]) -> bool:
    context = row.get("@odata.context")
    return (isinstance(context, str) and context.endswith("$deletedEntity")) or (
        row.get("reason") == "deleted"
    )


def _resolve_dotted(
    connector: DataverseConnector,
    meta: EntitySetMetadata,
    rows: list[Mapping[str, Any]],
    records: list[Record],
    dotted: list[str],
) -> None:
    service = connector.metadata()
    for lookup in {f.partition(".")[0] for f in dotted}:
        wanted = [f.partition(".")[2] for f in dotted if f.partition(".")[0] == lookup]
        prop = meta.properties.get(lookup, lookup)
        by_type: dict[str, set[str]] = {}
        for row in rows:
            target_id = row.get(prop)
            if target_id is None:
                continue
            logical = row.get(prop + _LOGICAL_NAME)
            targets = (
                [str(logical)]
                if logical
                else [n.target_type.rpartition(".")[2] for n in meta.navigations_of(lookup)]
            )
            for target in targets:
                by_type.setdefault(target, set()).add(str(target_id).lower())
        values: dict[str, dict[str, Any]] = {}
        for logical, ids in by_type.items():
            set_name = service.set_of_type.get(logical)
            related_set = service.entity_sets.get(set_name) if set_name else None
            if related_set is None or not related_set.info.key:
                continue
            fields = [related_set.properties[w] for w in wanted if w in related_set.properties]
            if not fields:
                continue
            pk = related_set.properties[related_set.info.key[0]]
            for found in read_by_keys(
                connector,
                related_set,
                related_set.info.key[:1],
                [(i,) for i in sorted(ids)],
                fields,
            ):
                values[str(found.get(pk)).lower()] = {
                    w: found.get(related_set.properties[w])
                    for w in wanted
                    if w in related_set.properties
                }
        for row, record in zip(rows, records, strict=True):
            target_id = row.get(prop)
            related = values.get(str(target_id).lower(), {}) if target_id is not None else {}
            for field in wanted:
                record[f"{lookup}.{field}"] = related.get(field)
