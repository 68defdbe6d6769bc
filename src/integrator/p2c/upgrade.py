"""The P2C upgrade script: bring a Sales system that had data before the solution up to date.

- every contact without a Contact Number gets one from the sequence (``CON-{SEQNUM:5}-{RAND:6}``),
  continuing after the highest number in use; the sequence's seed is moved past what was used
  *before* numbers are written, so contacts created meanwhile never collide;
- every account without an Account Number gets one the same way (``ACC-...``);
- Is Active Customer is set on contacts named as the customer of a quote, order or invoice (and
  set to No on contacts that have it blank, so the Contacts template's filter sees them);
- IsCompanyAnAccount is set from each contact's company (an account or not).

It goes through the Sales connection in pages and batches, writes only what differs, and can be
stopped and started again at any point: a second run finds nothing left to do.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from integrator.connectors.base import Connector, Outcome, Record

__all__ = ["NumberFormat", "UpgradeReport", "run_upgrade"]

SeedSetter = Callable[[str, str, int], None]

_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class NumberFormat:
    """An autonumber attribute: ``{prefix}-{SEQNUM:5}-{RANDSTRING:6}``."""

    entity_set: str
    entity_name: str
    key: str
    attribute: str
    prefix: str

    def sequence_of(self, number: str | None) -> int | None:
        """The SEQNUM part of ``number``, or ``None`` when it is not one of ours."""
        if not number:
            return None
        match = re.fullmatch(rf"{re.escape(self.prefix)}-(\d+)-[A-Z0-9]{{6}}", number)
        return int(match.group(1)) if match else None

    def format(self, sequence: int) -> str:
        """A new number for ``sequence``."""
        suffix = "".join(secrets.choice(_ALPHABET) for _ in range(6))
        return f"{self.prefix}-{sequence:05d}-{suffix}"


CONTACT_NUMBER = NumberFormat("contacts", "contact", "contactid", "msdynce_contactnumber", "CON")
ACCOUNT_NUMBER = NumberFormat("accounts", "account", "accountid", "accountnumber", "ACC")
#: where a sequence starts when nothing is numbered yet
FIRST_NUMBER = 1000


@dataclass
class UpgradeReport:
    """What the upgrade changed, and the failures it met (each with key and message)."""

    contacts_numbered: int = 0
    accounts_numbered: int = 0
    active_customers_set: int = 0
    company_flags_set: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """Records written in all."""
        return (
            self.contacts_numbered
            + self.accounts_numbered
            + self.active_customers_set
            + self.company_flags_set
        )


def run_upgrade(sales: Connector, set_seed: SeedSetter, *, page_size: int = 5000) -> UpgradeReport:
    """Run the upgrade script against ``sales``; ``set_seed(entity, attribute, value)`` moves a
    number sequence (Dataverse's ``SetAutoNumberSeed``)."""
    report = UpgradeReport()
    report.accounts_numbered = _number(sales, set_seed, ACCOUNT_NUMBER, page_size, report)
    report.contacts_numbered = _number(sales, set_seed, CONTACT_NUMBER, page_size, report)
    _contact_flags(sales, page_size, report)
    return report


def _pages(
    sales: Connector, entity: str, fields: Sequence[str], filter: str | None, page_size: int
) -> Iterator[list[Record]]:
    return sales.read(entity, fields, filter=filter, page_size=page_size)


def _write(
    sales: Connector, entity: str, key: str, records: list[Record], report: UpgradeReport
) -> int:
    if not records:
        return 0
    written = 0
    for record, result in zip(records, sales.upsert(entity, records, key=[key]), strict=True):
        if result.outcome == Outcome.ERROR:
            report.failures.append(f"{entity} {record[key]}: {result.message}")
        elif result.outcome != Outcome.UNCHANGED:
            written += 1
    return written


def _number(
    sales: Connector,
    set_seed: SeedSetter,
    number: NumberFormat,
    page_size: int,
    report: UpgradeReport,
) -> int:
    highest = FIRST_NUMBER - 1
    missing = 0
    for page in _pages(sales, number.entity_set, [number.key, number.attribute], None, page_size):
        for record in page:
            value = record.get(number.attribute)
            if not value:
                missing += 1
                continue
            sequence = number.sequence_of(value)
            if sequence is not None and sequence > highest:
                highest = sequence
    if missing == 0:
        return 0
    # Reserve the range first: contacts created while the upgrade runs take numbers after it.
    set_seed(number.entity_name, number.attribute, highest + missing + 1)
    next_sequence = highest + 1
    written = 0
    unnumbered = f"{number.attribute} eq null"
    for page in _pages(sales, number.entity_set, [number.key], unnumbered, page_size):
        records: list[Record] = []
        for record in page:
            records.append(
                {number.key: record[number.key], number.attribute: number.format(next_sequence)}
            )
            next_sequence += 1
        written += _write(sales, number.entity_set, number.key, records, report)
    return written


def _contact_flags(sales: Connector, page_size: int, report: UpgradeReport) -> None:
    customers: set[str] = set()
    for entity in ("quotes", "salesorders", "invoices"):
        for page in _pages(sales, entity, ["customerid.contactid"], None, page_size):
            customers.update(
                r["customerid.contactid"] for r in page if r.get("customerid.contactid")
            )
    fields = [
        "contactid",
        "msdynce_isactivecustomer",
        "msdynce_iscompanyanaccount",
        "parentcustomerid.accountid",
    ]
    for page in _pages(sales, "contacts", fields, None, page_size):
        due: list[Record] = []
        for record in page:
            active = record["contactid"] in customers or bool(record["msdynce_isactivecustomer"])
            company = record.get("parentcustomerid.accountid") is not None
            change: Record = {}
            if record.get("msdynce_isactivecustomer") is None or (
                active and not record["msdynce_isactivecustomer"]
            ):
                change["msdynce_isactivecustomer"] = active
                report.active_customers_set += int(active)
            if record.get("msdynce_iscompanyanaccount") != company:
                change["msdynce_iscompanyanaccount"] = company
                report.company_flags_set += 1
            if change:
                due.append({"contactid": record["contactid"], **change})
        _write(sales, "contacts", "contactid", due, report)
