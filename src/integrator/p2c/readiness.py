"""Whether Sales is ready for the P2C templates: the solution's fields exist, and every record
carries what the solution sets (Contact and Account Numbers, Is Active Customer,
IsCompanyAnAccount).

A Sales system without the solution, or with records from before it, reads as empty to the
templates (their filters and keys skip a record without a number or with the flags blank): the
runs are Completed and read nothing. These checks say why and name ``integrator upgrade``.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Iterable
from pathlib import Path

from integrator.connectors.base import Connector, EntityInfo
from integrator.errors import RequestRejected

__all__ = [
    "SOLUTION_FIELDS",
    "missing_solution_fields",
    "sales_upgrade_notes",
    "upgrade_check_due",
    "upgrade_hint",
]

log = logging.getLogger(__name__)

#: what the P2C solution adds to Sales and sets on every record, per entity
SOLUTION_FIELDS: dict[str, tuple[str, ...]] = {
    "accounts": ("accountnumber",),
    "contacts": ("msdynce_contactnumber", "msdynce_isactivecustomer", "msdynce_iscompanyanaccount"),
}


#: the words every upgrade note holds, by which a later run knows the last one carried it
_NOTE_WORDS = "without what the Prospect to cash solution sets"


def upgrade_check_due(*, reads_everything: bool, last_message: str | None) -> bool:
    """Whether a run looks for Sales records the P2C solution has not set
    (:func:`sales_upgrade_notes`): when it reads everything (a first run, a run with all data,
    a source it reads whole each time), or while the project's last run (``last_message``)
    said such records were waiting, until a check finds none. A run that reads only changes
    after a check that found none skips it: the check reads every record of the entity (no
    index serves a search for blanks), and records made since the solution carry its fields."""
    return reads_everything or (last_message is not None and _NOTE_WORDS in last_message)


def upgrade_hint(workspace: Path | str) -> str:
    """The command that brings Sales' records up to date, for this workspace."""
    return f"integrator upgrade --workspace {shlex.quote(str(workspace))}"


def missing_solution_fields(entity: str, info: EntityInfo) -> list[str]:
    """The fields of the P2C solution that the Sales entity ``entity`` (described by ``info``)
    does not have; empty when it has them all or is not an entity the solution changes."""
    return [name for name in SOLUTION_FIELDS.get(entity, ()) if name not in info.fields]


def sales_upgrade_notes(
    sales: Connector, entities: Iterable[str], workspace: Path | str
) -> list[str]:
    """For a run reading ``entities`` from ``sales``: one sentence naming ``integrator upgrade``
    when some of those records lack what the P2C solution sets (the templates skip them), or
    none. Costs one request of one record per entity the solution changes."""
    waiting: list[str] = []
    for entity in sorted(set(entities) & SOLUTION_FIELDS.keys()):
        fields = SOLUTION_FIELDS[entity]
        blank = " or ".join(f"{name} eq null" for name in fields)
        try:
            if next(iter(sales.read(entity, [fields[0]], filter=blank, page_size=1)), []):
                waiting.append(entity)
        except RequestRejected as exc:  # a Sales without the fields: validation said so
            log.info("cannot check %s for records the P2C solution has not set: %s", entity, exc)
    if not waiting:
        return []
    unset = ", ".join(name for entity in waiting for name in SOLUTION_FIELDS[entity])
    return [
        f"Sales has {' and '.join(waiting)} {_NOTE_WORDS} ({unset}), which the templates "
        f"skip: run `{upgrade_hint(workspace)}` once"
    ]
