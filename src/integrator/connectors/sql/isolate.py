"""Write a batch in bulk and still find the rows the database refuses, without giving up speed.

The whole set is tried in one go under a savepoint. When the database refuses it (a constraint,
a trigger's ``RAISE``, a value), the savepoint is rolled back and the set is halved and retried,
down to the single rows at fault; every other row is still written. k bad rows in n cost about
2·k·log2(n/k) extra statements.

Refusals tend to come in families (a required field many records lack, the same unknown
group). Once a row is refused, the waiting rows that share its faulty value are set apart and
tried one by one while they keep being refused, so the other rows go through in bulk instead
of being halved again and again. Every row is still tried: when a look-alike goes through, the
guess was wrong and the rest of them are a plain group again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from integrator.connectors.sql.errors import is_row_error
from integrator.errors import RequestRejected

__all__ = [
    "Refused",
    "RowsSkipped",
    "transaction_lost",
    "transaction_lost_error",
    "write_isolating_refusals",
]

Item = TypeVar("Item")

#: told of a refused item and the error; may answer what the fault was (hashable) and a test
#: for the waiting items that share it
Refused = Callable[[Item, Exception], tuple[Hashable, Callable[[Item], bool]] | None]


class RowsSkipped(Exception):
    """Fewer rows were written than sent: a trigger dropped some without an error
    (SQLite ``RAISE(IGNORE)``, a PostgreSQL BEFORE trigger returning NULL)."""


def write_isolating_refusals(
    connection: Connection,
    entity: str,
    items: list[Item],
    attempt: Callable[[list[Item]], None],
    *,
    written: Callable[[list[Item]], None],
    refused: Refused[Item],
) -> None:
    """Apply ``attempt`` to ``items`` in bulk, isolating the ones the database refuses.

    ``attempt`` writes a group (raising the database's error, or :class:`RowsSkipped`);
    ``written`` is told of each group that went through, ``refused`` of each single item that
    did not. Raises ``RequestRejected`` when the database ended the whole transaction, and
    re-raises errors that are not about the rows (a lost connection); the caller rolls back.
    """
    _Isolation(connection, entity, attempt, written, refused).run(items)


class _Isolation(Generic[Item]):
    def __init__(
        self,
        connection: Connection,
        entity: str,
        attempt: Callable[[list[Item]], None],
        written: Callable[[list[Item]], None],
        refused: Refused[Item],
    ) -> None:
        self.connection = connection
        self.entity = entity
        self.attempt = attempt
        self.written = written
        self.refused = refused
        self.faults: set[Hashable] = set()
        #: groups still to write, last first; ``True`` marks set-apart look-alikes
        self.pending: list[tuple[list[Item], bool]] = []

    def run(self, items: list[Item]) -> None:
        if items:
            self.pending.append((items, False))
        while self.pending:
            group, suspect = self.pending.pop()
            if suspect and len(group) > 1:
                went_through = self.write(group[:1])
                self.pending.append((group[1:], not went_through))
            elif not self.write(group) and len(group) > 1:
                middle = len(group) // 2
                self.pending += [(group[middle:], False), (group[:middle], False)]

    def write(self, group: list[Item]) -> bool:
        """Try ``group``; True when written. A refused single item is reported at once."""
        savepoint = self.connection.begin_nested()
        try:
            self.attempt(group)
        except (RowsSkipped, sa.exc.StatementError) as error:
            if isinstance(error, sa.exc.StatementError):
                lost = transaction_lost_error(self.connection, self.entity, error)
                if lost is not None:
                    raise lost from None
            savepoint.rollback()
            if isinstance(error, sa.exc.StatementError) and not is_row_error(error):
                raise
            if len(group) == 1:
                self.report(group[0], error)
            return False
        savepoint.commit()
        self.written(group)
        return True

    def report(self, item: Item, error: Exception) -> None:
        fault = self.refused(item, error)
        if fault is None or fault[0] in self.faults:
            return
        self.faults.add(fault[0])
        alike = fault[1]
        regrouped: list[tuple[list[Item], bool]] = []
        apart: list[Item] = []
        for group, suspect in self.pending:
            rest = [i for i in group if not alike(i)]
            apart.extend(i for i in group if alike(i))
            if rest:
                regrouped.append((rest, suspect))
        # tried last: the other rows first go through in bulk
        self.pending = [(apart, True), *regrouped] if apart else regrouped


def transaction_lost_error(
    connection: Connection, entity: str, error: sa.exc.StatementError
) -> RequestRejected | None:
    """What to raise when ``error`` made the database end the whole transaction (SQLite
    ``RAISE(ROLLBACK)``, taking the savepoints with it); ``None`` when it did not."""
    if not transaction_lost(connection):
        return None
    return RequestRejected(
        f"{entity}: the database ended the whole transaction ({str(error.orig).strip()}); "
        "nothing of this batch was written",
        code="transaction-rolled-back",
    )


def transaction_lost(connection: Connection) -> bool:
    """True when the database itself rolled the transaction back (SQLite ``RAISE(ROLLBACK)``),
    taking the savepoints with it."""
    if connection.dialect.name != "sqlite":
        return False
    driver = connection.connection.driver_connection
    return driver is not None and not driver.in_transaction
