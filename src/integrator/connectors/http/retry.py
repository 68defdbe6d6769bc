"""When and how long to wait before sending a failed request again."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter; a server's ``Retry-After`` wins.

    Attempt ``n`` (0-based) that failed without ``Retry-After`` waits a random time in
    ``[0, min(max_delay, base_delay * 2**n)]``. With ``Retry-After`` it waits that long (capped
    by ``max_retry_after``) plus up to ``base_delay`` of jitter so that clients do not return in
    step. After ``max_attempts`` attempts the last error is raised.

    A system that cannot be reached at all (connection refused, host not found, no answer to
    connect) is retried the same way for at most ``connect_budget`` seconds in all, then given
    up on: waiting longer would keep a user in silence about a wrong URL or a stopped service.
    """

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0
    connect_budget: float = 4.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.connect_budget <= 0:
            raise ValueError("connect_budget must be more than 0 seconds")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after) + self.rng.uniform(
                0, self.base_delay
            )
        return self.rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))
