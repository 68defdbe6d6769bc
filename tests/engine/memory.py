"""An in-memory system speaking ``connectors/base.py``'s protocol: a real part for running a
whole task without a sandbox (records in dicts, change tracking by version numbers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from integrator.connectors.base import (
    Capabilities,
    ChangeBatch,
    EntityInfo,
    FieldInfo,
    FieldType,
    Outcome,
    Record,
    RecordResult,
)
from integrator.errors import RequestRejected
from integrator.odata.filter import evaluate, parse_filter

#: a rule a system applies to every record written: an error message, or ``None`` to accept
Rule = Callable[[Mapping[str, Any]], str | None]


def entity(entity_name: str, key: Sequence[str], **fields: FieldType) -> EntityInfo:
    """An entity whose fields are ``fields`` (name → type), keyed on ``key``."""
    return EntityInfo(entity_name, {n: FieldInfo(n, t) for n, t in fields.items()}, tuple(key))


@dataclass
class _Table:
    info: EntityInfo
    rows: dict[tuple[Any, ...], tuple[int, Record]] = field(default_factory=dict)
    deleted: dict[tuple[Any, ...], int] = field(default_factory=dict)


class MemorySystem:
    """A system holding entities in memory; ``rules`` refuse records on their data,
    ``unavailable`` fails every write transiently (as a connector gives up after retries),
    ``broken`` makes every request fail as a whole with the given error."""

    def __init__(self, *entities: EntityInfo, change_tracking: bool = True) -> None:
        self.capabilities = Capabilities(
            filter_pushdown=True,
            max_page_size=1000,
            max_batch_size=1000,
            change_tracking=change_tracking,
        )
        self.tables = {info.name: _Table(info) for info in entities}
        self.rules: list[Rule] = []
        self.unavailable = False
        self.broken: Exception | None = None
        self.version = 0
        self.page_size = 2
        self.writes = 0

    # -- test helpers ----------------------------------------------------------------------------

    def put(self, entity_name: str, /, **values: Any) -> None:
        """Create or change a record (as a user would in the source)."""
        table = self.tables[entity_name]
        self.version += 1
        key = tuple(values[k] for k in table.info.key)
        old = table.rows.get(key, (0, {}))[1]
        table.rows[key] = (self.version, {**old, **values})

    def remove(self, entity_name: str, /, **key: Any) -> None:
        """Delete a record (as a user would in the source)."""
        table = self.tables[entity_name]
        self.version += 1
        values = tuple(key[k] for k in table.info.key)
        del table.rows[values]
        table.deleted[values] = self.version

    def records(self, name: str) -> list[Record]:
        """Every record of ``name``, in key order."""
        return [record for _, (_, record) in sorted(self.tables[name].rows.items())]

    # -- the protocol ----------------------------------------------------------------------------

    def describe(self, entity: str) -> EntityInfo:
        """The entity, or ``RequestRejected`` when there is none."""
        if entity not in self.tables:
            raise RequestRejected(f"no entity {entity!r}", status=404)
        return self.tables[entity].info

    def read(
        self,
        entity: str,
        fields: Sequence[str],
        *,
        filter: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[Record]]:
        """Pages of the records ``filter`` selects, holding exactly ``fields``."""
        self._check()
        expr = parse_filter(filter) if filter else None
        found = [
            {name: record.get(name) for name in fields}
            for record in self.records(entity)
            if expr is None or evaluate(expr, record, case_insensitive=True)
        ]
        size = page_size or self.page_size
        for start in range(0, len(found), size):
            yield found[start : start + size]

    def read_changes(
        self, entity: str, fields: Sequence[str], *, checkpoint: str | None
    ) -> Iterator[ChangeBatch]:
        """What changed after version ``checkpoint`` (everything when ``None``)."""
        self._check()
        table = self.tables[entity]
        since = int(checkpoint) if checkpoint is not None else 0
        changed = [
            {name: record.get(name) for name in fields}
            for _, (version, record) in sorted(table.rows.items())
            if version > since
        ]
        gone = [
            dict(zip(table.info.key, key, strict=True))
            for key, version in table.deleted.items()
            if version > since and checkpoint is not None
        ]
        for start in range(0, len(changed), self.page_size):
            yield ChangeBatch(changed[start : start + self.page_size])
        yield ChangeBatch([], gone, str(self.version))

    def upsert(
        self, entity: str, records: Sequence[Record], *, key: Sequence[str]
    ) -> list[RecordResult]:
        """Insert or update each record; a rule refuses one alone."""
        self._check()
        table = self.tables[entity]
        results: list[RecordResult] = []
        for record in records:
            values = {name: record.get(name) for name in key}
            if self.unavailable:
                results.append(
                    RecordResult(values, Outcome.ERROR, "gave up after 3 attempts: 503", None, True)
                )
                continue
            refusal = next((m for rule in self.rules if (m := rule(record)) is not None), None)
            if refusal is not None:
                results.append(RecordResult(values, Outcome.ERROR, refusal))
                continue
            row_key = tuple(values.values())
            old = table.rows.get(row_key)
            if old is not None and old[1] == record:
                results.append(RecordResult(values, Outcome.UNCHANGED))
                continue
            self.version += 1
            self.writes += 1
            table.rows[row_key] = (self.version, dict(record))
            results.append(RecordResult(values, Outcome.UPDATED if old else Outcome.INSERTED))
        return results

    def delete(self, entity: str, keys: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        """Delete each record; one that is not there is unchanged."""
        self._check()
        table = self.tables[entity]
        results: list[RecordResult] = []
        for values in keys:
            row_key = tuple(values[k] for k in table.info.key)
            if table.rows.pop(row_key, None) is None:
                results.append(RecordResult(dict(values), Outcome.UNCHANGED))
            else:
                results.append(RecordResult(dict(values), Outcome.DELETED))
        return results

    def close(self) -> None:
        """Nothing to release."""

    def _check(self) -> None:
        if self.broken is not None:
            raise self.broken
