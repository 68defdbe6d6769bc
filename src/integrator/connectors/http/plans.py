"""One record's planned write (a leaf module, shared by the planner, writers and dialects)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from integrator.connectors.base import Outcome

__all__ = ["WritePlan"]


@dataclass(frozen=True)
class WritePlan:
    """One record's write: where it goes, what it sends, and what it will count as."""

    index: int
    key: Mapping[str, Any]
    payload: Mapping[str, Any]
    outcome: Outcome
    #: ``insert`` creates, ``update`` changes an existing row
    action: Literal["insert", "update"]
    fallback_used: bool = False
    #: sent without reading first, as a create that fails if the record exists (see upsert)
    create_only: bool = False
