"""Records and helpers shared by the Dataverse tests."""

from __future__ import annotations

from typing import Any

from integrator.connectors.base import Record
from integrator.connectors.dataverse import DataverseConnector
from integrator.sandbox.testing import SandboxHandle

__all__ = ["AWKWARD", "KEY", "calls", "contacts", "read_all", "read_all_accounts"]

KEY = ["msdynce_contactnumber"]
AWKWARD = ["O'Brien", "Smith & Sons", "#1 / 2", "50% off?", "a+b=c", "Zoë 'Z' Müller"]


def contacts(count: int, start: int = 0) -> list[Record]:
    """Contacts ``start`` .. ``start + count - 1``: awkward names, roles 1-3, half without a
    first name."""
    return [
        {
            "msdynce_contactnumber": f"CON-{n:05d}-T",
            "firstname": "Ann" if n % 2 else None,
            "lastname": f"{AWKWARD[n % len(AWKWARD)]} {n}",
            "accountrolecode": 1 + n % 3,
        }
        for n in range(start, start + count)
    ]


def calls(sandbox: SandboxHandle) -> tuple[int, dict[str, int]]:
    """HTTP requests counted by the sandbox, and Sales' operations inside batches by method."""
    counts = sandbox.request_counts()
    return counts["total"], counts["batch_operations"].get("sales", {})


def read_all(connector: DataverseConnector, fields: list[str], **kw: Any) -> list[Record]:
    """Every contact, ``fields`` only."""
    return [r for page in connector.read("contacts", fields, **kw) for r in page]


def read_all_accounts(connector: DataverseConnector) -> list[Record]:
    """Every account's id and number."""
    return [r for p in connector.read("accounts", ["accountid", "accountnumber"]) for r in p]
