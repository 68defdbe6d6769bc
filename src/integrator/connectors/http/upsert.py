"""Upsert planning, shared by the OData connectors (the writing is in :mod:`.writes`).

An upsert of N records costs, in HTTP requests:

0. when the previous call's read found none of its records stored (and it had at least
   ``batch_size`` of them), as in an initial load, no read at all: every record goes as a
   create-only write (``If-None-Match: *`` on Dataverse, ``POST`` on F&O), so a load costs one
   request per ``batch_size`` records. Records that turn out to exist are then read and
   planned as below, and reads come first again. The first large call to an entity (nothing
   read for it yet) reads only a sample first, its first ``keys_per_read`` keys in one ``GET``:
   when none of them is stored it goes as create-only writes, so an initial load reads one
   ``GET`` per entity, not every key; otherwise the rest of its keys are read as in 1 (one
   request more than reading them all at once, once per entity);
1. one request reading the stored rows for all N keys (a ``$batch`` of ``GET``s, each with a
   ``$filter`` over ``keys_per_read`` keys; a plain ``GET`` when one suffices). Records equal to
   what is stored are reported ``unchanged`` and not sent; the others are known to be inserts or
   updates before they are sent, and updates send only the fields that changed;
2. ``ceil(changed / batch_size)`` ``$batch`` requests (up to 1000 operations each, run
   ``parallel_batches`` at a time) with ``Prefer: odata.continue-on-error``, or as many bulk
   requests where the connector's ``write_plans`` uses the service's bulk messages (Dataverse's
   ``UpsertMultiple``);
3. retries: a whole batch that fails transiently is sent again by the client; operations whose
   own answer is 429/5xx, or that the server left unanswered, go again in a smaller batch after
   the retry policy's delay. A refused operation is reported as that record's error, with the
   server's message (and the field it names, when it names one of the record's fields).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from integrator.connectors.base import Outcome, Record, RecordResult
from integrator.connectors.http.compare import bind_target_id
from integrator.connectors.http.lookup import read_by_keys
from integrator.connectors.http.metadata import EntitySetMetadata
from integrator.connectors.http.plans import WritePlan
from integrator.connectors.http.service import ODataService
from integrator.connectors.values import same_value
from integrator.errors import RequestRejected

__all__ = ["key_of", "normal_key", "plan_writes", "upsert_records"]

_BIND_SUFFIX = "@odata.bind"


def plan_writes(
    connector: ODataService,
    meta: EntitySetMetadata,
    key: tuple[str, ...],
    records: Sequence[Record],
    indexes: list[int],
    results: list[RecordResult | None],
) -> tuple[list[WritePlan], int]:
    """Plan writes for ``records[indexes]`` (keys distinct); unchanged ones go to ``results``.

    Returns the plans and how many of the records are stored already.
    """
    stored: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    if connector.settings.skip_unchanged and indexes:
        names: dict[str, None] = {}
        for index in indexes:
            names.update(dict.fromkeys(records[index]))
        wanted: dict[str, None] = {}
        for name in names:
            prop = _stored_property(meta, name)
            if prop is not None:
                wanted[prop] = None
        keys = [tuple(records[i][k] for k in key) for i in indexes]
        key_props = [meta.properties[k] for k in key]
        for found in read_by_keys(connector, meta, key, keys, list(wanted)):
            stored[normal_key(tuple(found.get(p) for p in key_props))] = found
    plans: list[WritePlan] = []
    for index in indexes:
        record = records[index]
        values = tuple(record[k] for k in key)
        row = stored.get(normal_key(values))
        record_key = key_of(record, key)
        if row is None:
            plans.append(WritePlan(index, record_key, dict(record), Outcome.INSERTED, "insert"))
            continue
        changes = {
            name: value
            for name, value in record.items()
            if name not in key and not _unchanged(meta, row, name, value)
        }
        if not changes:
            results[index] = RecordResult(record_key, Outcome.UNCHANGED)
        else:
            plans.append(WritePlan(index, record_key, changes, Outcome.UPDATED, "update"))
    return plans, len(stored)


def upsert_records(
    connector: ODataService,
    meta: EntitySetMetadata,
    key: tuple[str, ...],
    records: Sequence[Record],
) -> list[RecordResult]:
    """Upsert ``records`` into ``meta``'s entity set matched on ``key``; a result per record.

    A record whose key cannot name a record fails alone. Records repeating a key already seen
    in this call are written after the first, in order, so the last one wins.
    """
    missing = [k for k in key if k not in meta.properties]
    if missing:
        raise RequestRejected(
            f"entity {meta.info.name} has no key field(s) {', '.join(missing)}",
            code="unknown-field",
        )
    results: list[RecordResult | None] = [None] * len(records)
    rounds: list[list[int]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for index, record in enumerate(records):
        values = tuple(record.get(k) for k in key)
        problem = _key_problem(meta, key, values)
        if problem is not None:
            results[index] = RecordResult(
                key_of(record, key), Outcome.ERROR, problem[1], problem[0]
            )
            continue
        normal = normal_key(values)
        occurrence = seen.get(normal, 0)
        seen[normal] = occurrence + 1
        if occurrence == len(rounds):
            rounds.append([])
        rounds[occurrence].append(index)
    for indexes in rounds:
        for index, result in _upsert_round(connector, meta, key, records, indexes, results):
            results[index] = result
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def _upsert_round(
    connector: ODataService,
    meta: EntitySetMetadata,
    key: tuple[str, ...],
    records: Sequence[Record],
    indexes: list[int],
    results: list[RecordResult | None],
) -> list[tuple[int, RecordResult]]:
    entity = meta.info.name
    settings = connector.settings
    guess_new = settings.skip_unchanged and settings.assume_new_after_empty_read
    loading = connector.assume_new(entity) if guess_new else False
    if loading is None and _worth_probing(settings.batch_size, settings.keys_per_read, indexes):
        # nothing written to this entity yet: a sample tells an initial load from the rest
        # before the whole call is read
        probe = indexes[: settings.keys_per_read]
        plans, stored = plan_writes(connector, meta, key, records, probe, results)
        loading = stored == 0
        connector.set_assume_new(entity, loading)
        if not loading:
            rest, _ = plan_writes(connector, meta, key, records, indexes[len(probe) :], results)
            return connector.write_plans(meta, plans + rest)[0]
    if loading:
        plans = [
            WritePlan(i, key_of(records[i], key), dict(records[i]), Outcome.INSERTED, "insert",
                      create_only=True)
            for i in indexes
        ]  # fmt: skip
        written, conflicts = connector.write_plans(meta, plans)
        if not conflicts:
            return written
        connector.set_assume_new(entity, False)
        indexes = [plan.index for plan in conflicts]
        replanned, _ = plan_writes(connector, meta, key, records, indexes, results)
        return written + connector.write_plans(meta, replanned)[0]
    plans, stored = plan_writes(connector, meta, key, records, indexes, results)
    if settings.skip_unchanged:
        # a small call finding nothing says little about the next (a retry of a few records)
        connector.set_assume_new(entity, stored == 0 and len(indexes) >= settings.batch_size)
    return connector.write_plans(meta, plans)[0]


def _worth_probing(batch_size: int, keys_per_read: int, indexes: Sequence[int]) -> bool:
    """Whether a call is large enough that reading a sample first may spare reading it all:
    a full write request's worth of records, more than one read's worth of keys."""
    return len(indexes) >= batch_size and len(indexes) > keys_per_read


def _key_problem(
    meta: EntitySetMetadata, key: tuple[str, ...], values: tuple[Any, ...]
) -> tuple[str, str] | None:
    """``(field, message)`` when a key value cannot name a record, else ``None``."""
    for name, value in zip(key, values, strict=True):
        if value is None or value == "":
            return name, f"key field {name} is empty"
        if meta.info.fields[name].type in ("guid", "lookup"):
            try:
                uuid.UUID(str(value))
            except ValueError:
                return name, f"key field {name} is not a GUID: {str(value)[:40]!r}"
    return None


def normal_key(values: tuple[Any, ...]) -> tuple[Any, ...]:
    # Dynamics compares keys case-insensitively (and F&O returns dataAreaId lower-cased).
    return tuple(v.casefold() if isinstance(v, str) else v for v in values)


def key_of(record: Mapping[str, Any], key: tuple[str, ...]) -> dict[str, Any]:
    return {k: record.get(k) for k in key}


def _stored_property(meta: EntitySetMetadata, name: str) -> str | None:
    if name.endswith(_BIND_SUFFIX):
        navigation = name[: -len(_BIND_SUFFIX)]
        for nav in meta.navigations:
            if nav.name == navigation and nav.lookup:
                return meta.properties.get(nav.lookup)
        return None
    return meta.properties.get(name)


def _unchanged(meta: EntitySetMetadata, row: Mapping[str, Any], name: str, value: Any) -> bool:
    prop = _stored_property(meta, name)
    if prop is None or prop not in row:
        return False
    if name.endswith(_BIND_SUFFIX):
        target = bind_target_id(value)
        stored = row.get(prop)
        return target is not None and isinstance(stored, str) and stored.lower() == target
    info = meta.info.fields.get(name)
    # Dataverse stores "" as null and F&O null as "": to both, the two blanks are one value
    return same_value(info.type if info else None, row.get(prop), value, blank_is_null=True)
