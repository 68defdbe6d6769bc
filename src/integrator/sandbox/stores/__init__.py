"""The sandbox's data layer: SQLite stores for Sales, CDS and F&O.

- :class:`SandboxStore`: open a data directory (``sales.db``, ``cds.db``, ``finops.db``), with
  schema, reference data and triggers; :meth:`SandboxStore.connect` gives connections.
- :data:`SALES`, :data:`CDS`, :data:`FINOPS`: the service descriptions (storage conventions in
  :mod:`integrator.sandbox.stores.services`).
- rules as triggers (:mod:`.rules`); :func:`explain_violation` (:mod:`.violations`): a
  refusal plus the record -> field and OData message naming the value.
- upkeep triggers (:mod:`.upkeep`): ``createdon``/``modifiedon``/``versionnumber``/``fullname``;
  the Sales P2C solution (:mod:`.solution`): numbering, Is Active Customer, IsCompanyAnAccount.
- change tracking: :func:`current_version`, :func:`changed_since`, :func:`deleted_since`,
  :func:`token_expired`, :func:`purge_tombstones` (rules in :mod:`.changes`).
- :func:`set_autonumber_seed`: Dataverse's ``SetAutoNumberSeed``.
- :func:`seed_sales`: realistic Sales data, fast.
"""

from integrator.sandbox.stores.changes import (
    TOMBSTONE_RETENTION,
    changed_since,
    current_version,
    deleted_since,
    purge_tombstones,
    token_expired,
)
from integrator.sandbox.stores.rules import Rule, rules_for
from integrator.sandbox.stores.services import CDS, FINOPS, SALES, SERVICES
from integrator.sandbox.stores.solution import autonumber_next, set_autonumber_seed
from integrator.sandbox.stores.store import SandboxStore, connect_file
from integrator.sandbox.stores.violations import Violation, explain_violation

__all__ = [
    "CDS",
    "FINOPS",
    "SALES",
    "SERVICES",
    "TOMBSTONE_RETENTION",
    "Rule",
    "SandboxStore",
    "Violation",
    "autonumber_next",
    "changed_since",
    "connect_file",
    "current_version",
    "deleted_since",
    "explain_violation",
    "purge_tombstones",
    "rules_for",
    "set_autonumber_seed",
    "token_expired",
]
