"""The typed hand-offs between a task's stages: read → :class:`SourcePage`, map →
:class:`MappedPage`, write → :class:`WriteResults`, reconcile → :class:`Reconciliation`.

Each is a whole page (batch-wise): no stage sees records one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from integrator.connectors.base import Outcome, Record
from integrator.engine.history import RecordState
from integrator.mapping.compile import Shortened

__all__ = [
    "Key",
    "MappedLeg",
    "MappedPage",
    "Reconciliation",
    "RecordProblem",
    "SourcePage",
    "Stale",
    "WriteResults",
]

#: a record's key values in one leg's target entity
Key = dict[str, Any]


@dataclass
class SourcePage:
    """A page the read stage hands over.

    ``records`` as the source gave them (the task's filter not yet applied), ``deleted`` the
    source ids removed since the checkpoint, ``checkpoint`` where to go on from once the page
    is committed (``None`` until the feed says where). ``full_read`` says the read this page
    belongs to reads every record the task selects (not changes since a checkpoint): then a
    record with a state it never brings is gone. ``notice`` says why a read fell back to a
    full read (on the first page of that read).
    """

    records: list[Record]
    deleted: list[str] = field(default_factory=list)
    checkpoint: str | None = None
    full_read: bool = False
    notice: str | None = None
    #: per record, whether the task's filter selects it, when already known (else ``None``)
    selection: list[bool] | None = None


@dataclass(frozen=True)
class RecordProblem:
    """One failure of one selected record: at which leg, on which field, why, and whether it
    is transient (429, 5xx, timeout, connection: retry soon) rather than on its data."""

    position: int
    leg: int
    field: str | None
    message: str
    transient: bool = False


@dataclass
class MappedLeg:
    """One leg's mapped records, each with the position (in the page's selected records) of
    the source record it came from."""

    records: list[Record]
    positions: list[int]


@dataclass
class MappedPage:
    """A page mapped through every leg, before anything is written.

    ``selected`` are the page's records the task's filter keeps (``ids`` their source ids),
    ``left`` the ids of read records it no longer selects, ``deleted`` those the source
    removed; ``intended[position][leg]`` the key each selected record is meant to get in each
    leg (``None``: it will not get there).
    """

    selected: list[Record]
    ids: list[str]
    record_keys: list[str]
    left: list[str]
    deleted: list[str]
    legs: list[MappedLeg]
    intended: list[list[Key | None]]
    problems: list[RecordProblem] = field(default_factory=list)
    #: ``(position, leg, shortened)``: a value Truncate cut in that record's leg
    shortened: list[tuple[int, int, Shortened]] = field(default_factory=list)


@dataclass
class WriteResults:
    """What the write stage did: per selected record, the key it got in each leg it reached
    and the outcome there, and every record that failed (mapping or write)."""

    written: list[list[Key]]
    outcomes: list[list[Outcome]]
    problems: list[RecordProblem] = field(default_factory=list)

    @property
    def failed(self) -> set[int]:
        """Positions of the selected records that failed in some leg."""
        return {problem.position for problem in self.problems}


@dataclass(frozen=True)
class Stale:
    """A row a record wrote in ``leg`` and no longer maps to: to be removed."""

    leg: int
    key: Key
    source_id: str


@dataclass
class Reconciliation:
    """Prior states + what a page did → the states to save, the rows to remove, and the ids
    that leave the task once their rows are gone."""

    states: dict[str, RecordState]
    stale: list[Stale]
    leaving: list[str]
