"""The SQL connector, ``kind: sql``: any database SQLAlchemy reaches (SQLite, PostgreSQL, ...).

>>> connector = SqlConnector.from_url(
...     "sqlite:///finops.db", watermarks={"CustomersV2": "modifiedon"}
... )

- ``describe``: reflection. Types map to the protocol's field types; a column is required when
  NOT NULL without a default and not an autoincrement key; unique constraints and unique indexes
  are the alternate keys; foreign keys and declared :class:`Relation` s make ``lookup`` fields.
- ``read``: only the asked columns; dotted lookups (``parentcustomerid.accountnumber``) are LEFT
  JOINs in the same query (polymorphic ones through the declared type column); the ``$filter``
  becomes SQL with bound parameters; pages are keyset-paged on the primary key.
- ``upsert``: per batch of ``batch_size`` records, one transaction: one SELECT of the stored rows
  for the batch's keys, unchanged records are not written, inserts and updates go in bulk
  (``executemany``; one ``unnest()`` statement on PostgreSQL). A refused row is isolated by
  halving the failing set inside savepoints, and rows sharing its faulty value are then tried
  one by one (:mod:`~integrator.connectors.sql.isolate`); it alone gets ``Outcome.ERROR`` with
  the database's reason in words (``CustomerGroupId '99' does not exist in company``) and the
  field, the rest of the batch is written. An unreachable or busy database raises
  ``RetriableError`` with the batch rolled back whole.
- ``read_changes``: by the watermark column configured per entity, ``>=`` the last value, with
  the keys already read at that value remembered in the checkpoint. Deletes are not seen.

A row a trigger drops without an error (SQLite ``RAISE(IGNORE)``, a PostgreSQL BEFORE trigger
returning NULL) is found by row counts and reported as an error, not as written. A trigger that
ends the whole transaction (SQLite ``RAISE(ROLLBACK)``) fails the batch with ``RequestRejected``
(code ``transaction-rolled-back``): per-row isolation needs ``ABORT``, which the sandbox uses.

Limits: rows whose key is NULL are not paged; a row
changed twice within one watermark tick after it was read is missed (use a counter such as
``versionnumber`` rather than a coarse timestamp where you can); on PostgreSQL, a transaction
that commits after a later one may carry an older watermark than the checkpoint and be missed.
"""

from integrator.connectors.configuration import ConnectorKind
from integrator.connectors.sql.config import Relation, SqlConnection, SqlOptions
from integrator.connectors.sql.connector import SqlConnector

__all__ = ["KIND", "Relation", "SqlConnection", "SqlConnector", "SqlOptions"]

#: ``kind: sql``, as the registry lists it
KIND = ConnectorKind(SqlConnection, SqlConnector.from_connection)
