"""The seed's row generator: realistic accounts, contacts and documents from one random source.

Every value comes from the ``random.Random`` given, so the same seed gives the same rows.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from integrator.sandbox.stores._seed_data import REGIONS, WORDS, Region
from integrator.sandbox.stores.solution import RANDSTRING_ALPHABET, format_autonumber

#: share of contacts with a quote, order or invoice (they become active customers)
ACTIVE_SHARE = 1 / 3

ACCOUNT_COLUMNS = (
    "accountid", "name", "accountnumber", "telephone1", "fax", "emailaddress1", "websiteurl",
    "address1_line1", "address1_city", "address1_stateorprovince", "address1_postalcode",
    "address1_county", "address1_country", "statecode",
)  # fmt: skip
CONTACT_COLUMNS = (
    "contactid", "firstname", "middlename", "lastname", "emailaddress1", "telephone1",
    "mobilephone", "fax", "jobtitle", "accountrolecode", "parentcustomerid",
    "parentcustomeridtype", "address1_line1", "address1_city", "address1_stateorprovince",
    "address1_postalcode", "address1_county", "address1_country", "msdynce_contactnumber",
    "msdynce_isactivecustomer", "statecode", "fullname", "msdynce_iscompanyanaccount",
)  # fmt: skip
#: entity set, key, number column, number prefix, share of documents
DOCUMENTS = (
    ("quotes", "quoteid", "quotenumber", "QUO", 0.5),
    ("salesorders", "salesorderid", "ordernumber", "ORD", 0.3),
    ("invoices", "invoiceid", "invoicenumber", "INV", 0.2),
)


_DOCUMENT_CUM_WEIGHTS = list(itertools.accumulate(d[4] for d in DOCUMENTS))
#: accountrolecode: Decision Maker, Employee, Influencer, blank
_ROLES = (1, 2, 3, None)
_ROLE_CUM_WEIGHTS = (30, 70, 85, 100)
T = TypeVar("T")


def insert_sql(table: str, columns: Sequence[str]) -> str:
    """``INSERT INTO table (columns) VALUES (?, ...)`` for the seed's own tables."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608


@cache
def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


@cache
def _digit_format(pattern: str) -> tuple[str, int]:
    return pattern.replace("{", "{{").replace("}", "}}").replace("#", "{}"), pattern.count("#")


class Faker:
    """Draws realistic values from one ``random.Random``: the only source of randomness."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.cum_weights = list(itertools.accumulate(r.weight for r in REGIONS))

    def pick(self, items: Sequence[T]) -> T:
        """One of ``items``, uniformly (``random()`` based: cheaper than ``choice``)."""
        return items[int(self.rng.random() * len(items))]

    def region(self) -> Region:
        return self.rng.choices(REGIONS, cum_weights=self.cum_weights)[0]

    def digits(self, pattern: str) -> str:
        fmt, n = _digit_format(pattern)
        return fmt.format(*f"{self.rng.randrange(10**n):0{n}d}") if n else pattern

    def maybe_digits(self, share: float, pattern: str) -> str | None:
        """:meth:`digits` with probability ``share``, else ``None`` (drawn only when kept)."""
        return self.digits(pattern) if self.rng.random() < share else None

    def maybe(self, share: float, value: Any) -> Any:
        """``value`` with probability ``share``, else ``None``."""
        return value if self.rng.random() < share else None

    def guid(self) -> str:
        """A random version-4 GUID, as ``str(uuid.UUID(int=..., version=4))`` but cheaper."""
        h = f"{self.rng.getrandbits(128):032x}"
        variant = "89ab"[int(h[16], 16) & 3]
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"

    def randstring(self) -> str:
        return "".join(self.rng.choices(RANDSTRING_ALPHABET, k=6))

    def address(self, r: Region) -> tuple[Any, ...]:
        city, state, county, postal = self.pick(r.cities)
        street = self.pick(r.street_patterns).format(
            n=1 + int(self.rng.random() * 399), s=self.pick(r.street_names)
        )
        return (
            self.maybe(0.92, street),
            self.maybe(0.95, city),
            self.maybe(0.9, state),
            self.maybe_digits(0.9, postal),
            county,
            self.pick(r.countries),
        )


def account_rows(f: Faker, count: int, number_from: int | None) -> Iterator[tuple[Any, ...]]:
    """``count`` account rows (``ACCOUNT_COLUMNS``); numbered from ``number_from`` unless None."""
    rng = f.rng
    for i in range(count):
        r = f.region()
        name = f.pick(r.company_patterns).format(w=f.pick(WORDS), l=f.pick(r.last_names))
        slug = _ascii(name)[:20] or "company"
        number = None
        if number_from is not None:
            number = format_autonumber("ACC", number_from + i, f.randstring())
        yield (
            f.guid(),
            name,
            number,
            f.maybe_digits(0.85, r.phone_pattern),
            f.maybe_digits(0.2, r.phone_pattern),
            f.maybe(0.8, f"info@{slug}.{r.email_domain}"),
            f.maybe(0.6, f"https://www.{slug}.{r.email_domain}"),
            *f.address(r),
            0 if rng.random() < 0.95 else 1,
        )


@dataclass
class ContactDraft:
    """A contact row (``CONTACT_COLUMNS``) and how many documents name it as customer."""

    row: list[Any]
    documents: int


def contact_drafts(
    f: Faker,
    count: int,
    number_from: int | None,
    solution: bool,
    account_ids: Sequence[str],
) -> Iterator[ContactDraft]:
    """``count`` contacts: company an account (of ``account_ids``), a recent contact, or none;
    about :data:`ACTIVE_SHARE` with documents. With ``solution``, P2C flags filled in."""
    rng = f.rng
    recent: list[str] = []
    for i in range(count):
        r = f.region()
        first, last = f.pick(r.first_names), f.pick(r.last_names)
        local = ".".join(p for p in (_ascii(first), _ascii(last)) if p) or "contact"
        route = rng.random()
        parent, parent_type = None, None
        if route < 0.55 and account_ids:
            parent, parent_type = f.pick(account_ids), "account"
        elif route < 0.70 and recent:
            parent, parent_type = f.pick(recent), "contact"
        documents = 0
        if rng.random() < ACTIVE_SHARE:
            documents = 2 if rng.random() < 0.25 else 1
        number = None
        if number_from is not None:
            number = format_autonumber("CON", number_from + i, f.randstring())
        contact_id = f.guid()
        middle, last_name = f.maybe(0.15, f.pick(r.first_names)), f.maybe(0.98, last)
        company_is_account = None
        if solution:
            company_is_account = 1 if parent_type == "account" else 0
        yield ContactDraft(
            [
                contact_id,
                first,
                middle,
                last_name,
                f.maybe(0.9, f"{local}{rng.randrange(100)}@{r.email_domain}"),
                f.maybe_digits(0.85, r.phone_pattern),
                f.maybe_digits(0.5, r.phone_pattern),
                f.maybe_digits(0.1, r.phone_pattern),
                f.maybe(0.7, f.pick(r.job_titles)),
                rng.choices(_ROLES, cum_weights=_ROLE_CUM_WEIGHTS)[0],
                parent,
                parent_type,
                *f.address(r),
                number,
                (1 if documents else 0) if solution else None,
                0 if rng.random() < 0.97 else 1,
                fullname(first, middle, last_name),
                company_is_account,
            ],
            documents,
        )
        recent.append(contact_id)
        if len(recent) > 1000:
            recent.pop(0)


def document_row(
    f: Faker, customer: str, customer_type: str, seq: dict[str, int]
) -> tuple[str, tuple[Any, ...]]:
    """A quote, order or invoice for ``customer``: its table and row; ``seq`` numbers them."""
    rng = f.rng
    table, _, _, prefix, _ = rng.choices(DOCUMENTS, cum_weights=_DOCUMENT_CUM_WEIGHTS)[0]
    seq[table] += 1
    number = f"{prefix}-{seq[table]:07d}"
    amount = round(rng.uniform(50, 50_000), 2)
    return table, (f.guid(), f"{number} {f.pick(WORDS)}", number, amount, 0, customer,
                   customer_type)  # fmt: skip


def fullname(*names: str | None) -> str | None:
    """The ``fullname`` the upkeep trigger computes: the non-blank names joined by spaces."""
    joined = " ".join(n.strip(" ") for n in names if n is not None and n.strip(" "))
    return joined or None
