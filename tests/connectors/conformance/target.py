"""What the conformance suite needs from a system under test.

A target wraps one system holding one test entity (a table, an entity set) whose records look
alike across targets: a business key, a text field holding awkward values (``O'Brien``,
``Smith & Sons``), a number, a boolean, a field that is often empty, and a watermark or change
tracking. The suite writes and reads through the connector, and uses the target to put data in
and change it *behind the connector's back*, the way another user of the system would.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from integrator.connectors.base import Connector, Record

__all__ = [
    "AWKWARD_TEXT",
    "BadRecord",
    "ConformanceTarget",
    "FaultKind",
    "TargetFactory",
    "standard_filters",
]

FaultKind = Literal["throttle", "server_error"]

#: text values every target's fixture must hold somewhere (quotes, ampersands, case, accents)
AWKWARD_TEXT = ("O'Brien", "o'brien", "Smith & Sons", "Zoë Müller", "A&B 'quoted'")


@dataclass(frozen=True)
class BadRecord:
    """A record the system refuses, the field it should blame and words the message must hold."""

    record: Record
    field: str
    message: str


class ConformanceTarget(ABC):
    """One system under test. Subclass it; see ``targets/sql.py`` for an example."""

    #: shown in test ids
    name: str
    entity: str
    #: the business key upserts match on
    key: tuple[str, ...]
    #: the fields the suite writes and reads (the key included)
    fields: tuple[str, ...]
    #: the text field that is often empty (and holds ``Paris`` and ``Lyon`` sometimes)
    nullable: str
    #: strings compare without regard to case in ``$filter`` (Dataverse), or not (SQL)
    case_insensitive: bool = False
    #: the system stores ``""`` and null as one value (Dataverse, F&O), or apart (SQL)
    blank_is_null: bool = False
    #: ``read_changes`` works for the entity (watermark or change tracking)
    supports_changes: bool = True
    #: :meth:`faults` can inject throttling and server errors (HTTP targets)
    supports_faults: bool = False

    @abstractmethod
    def connector(self, *, page_size: int | None = None) -> Connector:
        """A new connector to the system; ``page_size`` also applies to ``read_changes``."""

    @abstractmethod
    def record(self, number: int) -> Record:
        """Valid record ``number``: deterministic, its own key, holding exactly ``fields``.

        Across ``record(0)`` .. ``record(999)`` the text field holds every ``AWKWARD_TEXT``
        value (and ``Name 00042``-style text otherwise), the nullable field is empty about one
        time in five and holds ``Paris`` and ``Lyon`` sometimes, and the number and boolean
        spread so each of :func:`standard_filters` keeps some rows and drops others.
        """

    @abstractmethod
    def load(self, records: Sequence[Record]) -> None:
        """Put ``records`` into the system directly, not through the connector."""

    @abstractmethod
    def bad_records(self) -> list[BadRecord]:
        """Records the system refuses (each for one reason), with distinct keys."""

    @abstractmethod
    def filters(self) -> list[str]:
        """``$filter`` expressions to compare with in-memory evaluation; see
        :func:`standard_filters`."""

    @abstractmethod
    def changed(self, record: Record) -> Record:
        """A copy of ``record`` with one non-key field given a new valid value."""

    @abstractmethod
    def make_changes(self, loaded: Sequence[Record]) -> dict[tuple[Any, ...], Record]:
        """Change the system directly after ``loaded`` was read for a checkpoint: update some
        rows, insert some, including rows that tie with the newest watermark already read.
        Returns every changed or new record by key, as it should now read."""

    def faults(self, kind: FaultKind, rate: float) -> AbstractContextManager[None]:
        """While open, the system answers that share of requests with ``kind`` failures."""
        raise NotImplementedError(f"{self.name} cannot inject faults")

    def injected_faults(self) -> int:
        """How many failures the system has injected since the target was made."""
        return 0

    def key_of(self, record: Record) -> tuple[Any, ...]:
        """The record's key values."""
        return tuple(record[k] for k in self.key)


#: given a scratch directory, makes one target, ready and empty, and removes it afterwards;
#: calls ``pytest.skip(reason)`` when the system is not available here
TargetFactory = Callable[[Path], AbstractContextManager[ConformanceTarget]]


def standard_filters(
    *, text: str, boolean: str, nullable: str, number: str | None = None
) -> list[str]:
    """The filters every target is checked with, over its fixture's field names.

    The text field must hold ``Name 00042``-style values besides ``AWKWARD_TEXT``; the number
    field (left out when ``None``) values spread over 0..1000.
    """
    filters = [
        f"{text} eq 'O''Brien'",
        f"{text} ne 'O''Brien'",
        f"{text} eq 'Smith & Sons'",
        f"{text} eq 'A&B ''quoted'''",
        f"contains({text}, '&')",
        f"contains({text}, '''')",
        f"startswith({text}, 'Name 00')",
        f"endswith({text}, '7')",
        f"{boolean} eq true",
        f"not ({boolean} eq true)",
        f"{nullable} eq null",
        f"{nullable} ne null",
        f"{nullable} ne 'Paris'",
        f"not ({nullable} eq 'Paris')",
        f"({nullable} eq 'Paris' or {nullable} eq 'Lyon') and not ({boolean} eq true)",
    ]
    if number is not None:
        filters += [
            f"{number} gt 500",
            f"{number} lt 100.5",
            f"{number} ge 100 and {number} le 200",
            f"{number} gt 900 or {text} eq 'O''Brien'",
        ]
    return filters
