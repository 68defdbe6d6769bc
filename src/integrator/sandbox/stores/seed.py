"""Realistic, reproducible Sales data, written in bulk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["SeedReport", "seed_sales"]


@dataclass(frozen=True)
class SeedReport:
    """What :func:`seed_sales` added, and how long it took."""

    accounts: int
    contacts: int
    quotes: int
    salesorders: int
    invoices: int
    seconds: float

    def summary(self) -> str:
        """One line for people."""
        return (
            f"added {self.accounts} accounts, {self.contacts} contacts, {self.quotes} quotes,"
            f" {self.salesorders} orders, {self.invoices} invoices in {self.seconds:.1f} s"
        )


def seed_sales(
    data_dir: Path | str, *, accounts: int, contacts: int, random_seed: int = 0
) -> SeedReport:
    """Add ``accounts`` accounts and ``contacts`` contacts (and documents) to ``data_dir``'s Sales.

    Same ``random_seed`` and same starting state => same rows. Not implemented yet.
    """
    raise NotImplementedError
