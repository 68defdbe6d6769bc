"""The connector protocol every system speaks: describe, read in pages, upsert in batches, changes.

A record is a plain ``dict`` from field name to a JSON-compatible value (str, int, float, bool,
None; decimals as float, dates and times as ISO-8601 strings). A lookup followed through a
relation is named with a dot, ``parentcustomerid.accountnumber``, both when asked for and in the
records returned.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "Capabilities",
    "ChangeBatch",
    "Connector",
    "EntityInfo",
    "FieldInfo",
    "FieldType",
    "KeyCollation",
    "Outcome",
    "RangePage",
    "RangeReader",
    "Record",
    "RecordResult",
]

Record = dict[str, Any]

#: how a system compares key text: ``dynamics`` as Dataverse's and F&O's SQL Server collations
#: do (case-insensitive, trailing spaces ignored by ``=``), ``exact`` character for character
KeyCollation = Literal["dynamics", "exact"]

FieldType = Literal["string", "integer", "decimal", "boolean", "datetime", "guid", "enum", "lookup"]


@dataclass(frozen=True)
class FieldInfo:
    """One field of an entity as the system describes it."""

    name: str
    type: FieldType
    max_length: int | None = None
    required: bool = False
    read_only: bool = False
    enum_values: tuple[str, ...] | None = None
    #: for ``lookup`` fields: the entities it may point at (a polymorphic lookup names several)
    lookup_targets: tuple[str, ...] = ()
    #: for option-set fields (Dataverse choices, travelling as integers): the valid values
    options: tuple[int, ...] | None = None


@dataclass(frozen=True)
class EntityInfo:
    """An entity (entity set, table): its fields, primary key and alternate keys."""

    name: str
    fields: Mapping[str, FieldInfo]
    key: tuple[str, ...]
    alternate_keys: tuple[tuple[str, ...], ...] = ()

    def required_fields(self) -> list[str]:
        """Names of the fields a new record must carry (read-only fields excluded)."""
        return [f.name for f in self.fields.values() if f.required and not f.read_only]


@dataclass(frozen=True)
class Capabilities:
    """What a connector can do, declared as data so the engine never needs ``isinstance``."""

    filter_pushdown: bool
    max_page_size: int
    max_batch_size: int
    change_tracking: bool = False
    watermark_reads: bool = False
    lookups: bool = True
    parallel_batches: int = 1
    #: the Dynamics connectors keep the default; SQL databases compare as their collation does
    key_collation: KeyCollation = "dynamics"
    #: the connector is a :class:`RangeReader`: a full read can be cut into key ranges
    key_ranges: bool = False
    #: the connector is a :class:`ChangeRangeReader`: a read of the changes since a
    #: checkpoint can be cut into ranges of the order its change reads follow
    change_ranges: bool = False


class Outcome(enum.StrEnum):
    """The fate of one record in an upsert or a delete."""

    INSERTED = "inserted"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    ERROR = "error"


@dataclass(frozen=True)
class RecordResult:
    """The outcome of upserting one record. ``key`` holds the record's key field values.

    ``transient`` marks an error that is not about the record (429, 5xx, timeout, lock, lost
    connection: the connector gave up retrying); the engine retries such a record every run.
    """

    key: Mapping[str, Any]
    outcome: Outcome
    message: str | None = None
    field: str | None = None
    transient: bool = False


@dataclass
class ChangeBatch:
    """A page of changes since a checkpoint.

    ``records`` were created or updated, ``deleted`` holds the keys of removed records, and
    ``checkpoint`` says where to go on from after this page: always set on the last page, and
    on earlier ones when the system can resume there. Store it together with what the page did
    and pass it back next time.
    """

    records: list[Record]
    deleted: list[Mapping[str, Any]] = field(default_factory=list)
    checkpoint: str | None = None


@dataclass
class RangePage:
    """A page of a key-range read: its records, in key order, and ``last``: the key value of
    its last record (JSON-compatible), where a read of the rest of the range goes on from."""

    records: list[Record]
    last: Any


class RangeReader(Protocol):
    """What a connector offers for partitioned full reads (``capabilities.key_ranges``)."""

    def key_bounds(self, entity: str, every: int) -> tuple[str, list[Any]] | None:
        """The key field of ``entity`` and the key values that cut it into ranges of about
        ``every`` records each (``[]`` when it holds ``every`` or fewer), in the order
        Python compares them; ``None`` when the entity cannot be cut (no single-column key,
        or one the system orders differently from Python)."""
        ...

    def read_range(
        self,
        entity: str,
        fields: Sequence[str],
        *,
        lower: Any,
        upper: Any,
        after: Any = None,
    ) -> Iterator[RangePage]:
        """Pages of the records with ``lower <= key < upper`` (``None``: unbounded), from just
        after ``after`` when it is given, in key order."""
        ...

    def change_checkpoint(self, entity: str, fields: Sequence[str] | None = None) -> str | None:
        """A checkpoint that reads, later, only what changes from now on (``None`` when the
        entity has no incremental reads); ``fields``: those the later change reads ask for
        (``None``: any), for a system whose checkpoint remembers them (Dataverse's delta
        link keeps its ``$select``)."""
        ...


class ChangeRangeReader(Protocol):
    """What a connector offers for partitioned incremental reads (``capabilities
    .change_ranges``): the changes since a checkpoint cut into ranges of the order they are
    read in (a SQL table's watermark, then its key). Bounds are JSON-compatible values the
    connector gave; only the connector compares them."""

    def change_bounds(self, entity: str, checkpoint: str | None, every: int) -> list[Any] | None:
        """The values that cut the changes of ``entity`` since ``checkpoint`` into ranges of
        about ``every`` records (``[]`` when ``every`` or fewer changed); ``None`` when that
        read cannot be cut (it reads everything, or the entity has no change reads)."""
        ...

    def read_change_range(
        self,
        entity: str,
        fields: Sequence[str],
        *,
        since: str,
        lower: Any,
        upper: Any,
        after: Any = None,
    ) -> Iterator[RangePage]:
        """Pages of the changes since ``since`` from ``lower`` (included) to ``upper``
        (excluded; ``None``: unbounded), from just after ``after`` when it is given."""
        ...

    def change_checkpoint(self, entity: str, fields: Sequence[str] | None = None) -> str | None:
        """As :meth:`RangeReader.change_checkpoint`."""
        ...


@runtime_checkable
class Connector(Protocol):
    """The operations the engine needs from a system."""

    capabilities: Capabilities

    def describe(self, entity: str) -> EntityInfo:
        """Describe ``entity``; raises ``RequestRejected`` when the system has no such entity."""
        ...

    def read(
        self,
        entity: str,
        fields: Sequence[str],
        *,
        filter: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[Record]]:
        """Yield pages of records holding exactly ``fields`` (dotted lookups resolved in bulk).

        ``filter`` is an OData ``$filter`` expression over the entity's own fields; a connector
        without ``filter_pushdown`` evaluates it itself, so callers always get filtered pages.
        """
        ...

    def upsert(
        self, entity: str, records: Sequence[Record], *, key: Sequence[str]
    ) -> list[RecordResult]:
        """Insert or update ``records`` matched on ``key``; one result per record, in order.

        A bad record fails alone (``Outcome.ERROR`` with the system's message); the others in the
        batch are still written. Raises only when the whole request cannot be done.
        """
        ...

    def delete(self, entity: str, keys: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        """Delete the records with the given key values; one result per key, in order.

        ``Outcome.DELETED`` when a record was removed, ``Outcome.UNCHANGED`` when there was none
        (deleting twice is the same as once), ``Outcome.ERROR`` with the system's message when
        it refused. Raises only when the whole request cannot be done.
        """
        ...

    def read_changes(
        self, entity: str, fields: Sequence[str], *, checkpoint: str | None
    ) -> Iterator[ChangeBatch]:
        """Yield what changed since ``checkpoint`` (everything when it is ``None``).

        The last batch carries the new checkpoint (earlier ones may carry resume points).
        Raises ``RequestRejected`` with code ``checkpoint-expired`` when the system no longer
        knows the checkpoint.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...
