"""What the HTTP client tests share."""

from __future__ import annotations

__all__ = ["ROOT", "FakeClock"]

#: a service root nothing resolves: every request goes to a test transport
ROOT = "http://service.test/api/data/v9.2/"


class FakeClock:
    """Time that passes only when someone sleeps; records each sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
