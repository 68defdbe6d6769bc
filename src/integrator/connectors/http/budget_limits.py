"""What every request budget is: its limits, and what the HTTP client needs of it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Budget", "BudgetLimits"]


@dataclass(frozen=True)
class BudgetLimits:
    """The limits of a budget: ``max_requests`` per ``window_seconds``, ``max_concurrent``."""

    max_requests: int = 6000
    window_seconds: float = 300.0
    max_concurrent: int = 52


class Budget(Protocol):
    """What the HTTP client needs of a budget: in-process (:class:`RequestBudget`) or shared
    through PostgreSQL (:class:`~integrator.connectors.http.pg_budget.PostgresBudget`)."""

    limits: BudgetLimits
    waited_seconds: float

    def slot(self) -> AbstractContextManager[None]:
        """Hold one request slot for the duration of the block."""
        ...

    def pause(self, seconds: float) -> None:
        """Hold back every request on the budget for ``seconds``."""
        ...

    def spare(self) -> int:
        """Requests the window has room for now (0 while paused)."""
        ...

    def seats(self) -> int:
        """Connectors open on the budget's identity (everywhere it is shared)."""
        ...

    def take_seat(self) -> None:
        """One more connector talks as the budget's identity."""
        ...

    def leave_seat(self) -> None:
        """A connector that took a seat is closed."""
        ...
