"""The sliding window of a shared request budget, counted in a fixed number of time buckets.

Time is cut into buckets ``window_seconds / buckets`` long; a request counts in the bucket of
the moment its token was reserved. At time ``now`` every bucket that overlaps the window
``(now - window_seconds, now]`` counts, the oldest one whole, so the count is never below the
number of requests really sent in the window (a token must be used before its bucket ends:
see :attr:`BucketWindow.expiry`). The price of that safety: a request may wait up to one bucket
longer than an exact sliding window would make it (the oldest bucket leaves the count only when
all of it is older than the window). With 30 buckets of Dataverse's 5 minutes that is 10 s at
most, and only when the window is full. In exchange the state is a few integers per identity,
whatever the request rate, so it fits in one PostgreSQL row per bucket.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["BucketWindow"]


@dataclass(frozen=True)
class BucketWindow:
    """The bucket arithmetic of a window of ``window_seconds`` cut in ``buckets`` buckets."""

    window_seconds: float
    buckets: int = 30

    def __post_init__(self) -> None:
        if self.window_seconds <= 0 or self.buckets < 1:
            raise ValueError(f"a window needs a positive length and bucket count: {self}")

    @property
    def width(self) -> float:
        """How long one bucket lasts, in seconds."""
        return self.window_seconds / self.buckets

    def bucket_of(self, now: float) -> int:
        """The bucket ``now`` falls in."""
        return math.floor(now / self.width)

    def oldest_counted(self, now: float) -> int:
        """The oldest bucket that still counts at ``now``: the one holding ``now - window``."""
        return self.bucket_of(now - self.window_seconds)

    def expiry(self, bucket: int) -> float:
        """When a token reserved in ``bucket`` may no longer be used: the bucket's end."""
        return (bucket + 1) * self.width

    def used(self, now: float, counts: Mapping[int, int]) -> int:
        """Requests counted at ``now`` from ``counts`` (bucket → requests)."""
        oldest = self.oldest_counted(now)
        return sum(used for bucket, used in counts.items() if bucket >= oldest)

    def room(self, now: float, counts: Mapping[int, int], max_requests: int) -> int:
        """Requests that may still be sent at ``now`` under ``max_requests`` per window."""
        return max(0, max_requests - self.used(now, counts))

    def wait_for_room(self, now: float, counts: Mapping[int, int]) -> float:
        """Seconds from ``now`` until the oldest counted bucket holding requests stops counting
        (a full window has room again no sooner); one bucket's width when none holds any."""
        oldest = self.oldest_counted(now)
        holding = [bucket for bucket, used in counts.items() if bucket >= oldest and used > 0]
        if not holding:
            return self.width
        leaves = self.expiry(min(holding)) + self.window_seconds
        return max(leaves - now, 1e-3)
