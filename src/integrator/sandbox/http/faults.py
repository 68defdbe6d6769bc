"""Fault injection and request counting for tests: the sandbox misbehaving on purpose.

A :class:`FaultConfig` is set when the server starts and replaced at run time through
``PUT /_sandbox/faults``. It can answer a share of requests with 429 (``Retry-After``), 500 or
503, add latency, and enforce a request budget the way Dataverse's service protection limits do
(N requests per sliding window of W seconds per client, at most C at once; 429 with
``Retry-After`` and code ``0x80072322`` / ``0x80072326``). Random choices come from a
``random.Random`` seeded with ``FaultConfig.seed`` and reset whenever the config is set, so a
test sees the same sequence of faults every run. Everything is off by default.

The client identity for the budget is the ``Authorization`` header, else the ``X-Client-Id``
header, else the client's address.
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, fields
from typing import Any

from integrator.sandbox.http.errors import (
    CONCURRENCY_LIMIT,
    INTERNAL_ERROR,
    RATE_LIMITED,
    REQUEST_LIMIT,
    SERVICE_UNAVAILABLE,
    ODataError,
)

__all__ = ["FaultConfig", "FaultInjector", "RequestCounter"]


@dataclass(frozen=True)
class FaultConfig:
    """What to inject. Rates are probabilities in [0, 1] drawn per request, in this order:
    429, 503, 500. ``services`` limits injection to some services (``sales``, ``cds``,
    ``finops``); empty means all. Budget fields set to ``None`` are off."""

    seed: int = 0
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    retry_after: int = 1
    latency_ms: float = 0.0
    budget_requests: int | None = None
    budget_window_seconds: float = 300.0
    budget_concurrent: int | None = None
    services: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        """A config from JSON fields (unknown names and bad values raise ``ValueError``)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        values = dict(data)
        if "services" in values:
            values["services"] = tuple(values["services"] or ())
        config = cls(**values)
        for name in ("rate_429", "rate_500", "rate_503"):
            rate = getattr(config, name)
            if not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be a number between 0 and 1, not {rate!r}")
        if config.latency_ms < 0 or config.retry_after < 0:
            raise ValueError("latency_ms and retry_after must not be negative")
        return config

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible fields."""
        data = asdict(self)
        data["services"] = list(self.services)
        return data

    @property
    def active(self) -> bool:
        """Whether anything is injected at all."""
        return bool(
            self.rate_429
            or self.rate_500
            or self.rate_503
            or self.latency_ms
            or self.budget_requests is not None
            or self.budget_concurrent is not None
        )


class FaultInjector:
    """Decides, per request, whether to fail it; holds the budget's sliding windows."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        """Replace the config; resets the random sequence, windows and in-flight counts."""
        with self._lock:
            self.config = config
            self._random = random.Random(config.seed)
            self._windows: dict[str, deque[float]] = defaultdict(deque)
            self._in_flight: dict[str, int] = defaultdict(int)

    def _budget(self, client: str, now: float) -> ODataError | None:
        cfg = self.config
        if cfg.budget_requests is not None:
            window = self._windows[client]
            while window and window[0] <= now - cfg.budget_window_seconds:
                window.popleft()
            if len(window) >= cfg.budget_requests:
                wait = max(1, math.ceil(window[0] + cfg.budget_window_seconds - now))
                return ODataError(
                    429,
                    REQUEST_LIMIT,
                    f"Number of requests exceeded the limit of {cfg.budget_requests} over time"
                    f" window of {cfg.budget_window_seconds:g} seconds.",
                    headers={"Retry-After": str(wait)},
                )
            window.append(now)
        if cfg.budget_concurrent is not None and self._in_flight[client] >= cfg.budget_concurrent:
            return ODataError(
                429,
                CONCURRENCY_LIMIT,
                f"Number of concurrent requests exceeded the limit of {cfg.budget_concurrent}.",
                headers={"Retry-After": str(max(1, cfg.retry_after))},
            )
        return None

    def remaining(self, client: str) -> int | None:
        """Requests ``client`` has left in the budget's window, or ``None`` without a budget
        (sent as Dataverse's ``x-ms-ratelimit-burst-remaining-xrm-requests`` header)."""
        with self._lock:
            if self.config.budget_requests is None:
                return None
            return max(0, self.config.budget_requests - len(self._windows[client]))

    def admit(self, service: str, client: str) -> tuple[ODataError | None, float]:
        """The fault to answer with (or ``None``) and the latency to add, in seconds.

        When it returns no fault the request counts as in flight until :meth:`release`.
        """
        with self._lock:
            cfg = self.config
            if cfg.services and service not in cfg.services:
                return None, 0.0
            error = self._budget(client, time.monotonic())
            if error is None:
                draw = self._random.random()
                retry = {"Retry-After": str(cfg.retry_after)}
                if draw < cfg.rate_429:
                    error = ODataError(
                        429, RATE_LIMITED, "Too many requests (injected fault)", headers=retry
                    )
                elif draw < cfg.rate_429 + cfg.rate_503:
                    error = ODataError(
                        503,
                        SERVICE_UNAVAILABLE,
                        "Service unavailable (injected fault)",
                        headers=retry,
                    )
                elif draw < cfg.rate_429 + cfg.rate_503 + cfg.rate_500:
                    error = ODataError(
                        500, INTERNAL_ERROR, "Internal server error (injected fault)"
                    )
            if error is None:
                self._in_flight[client] += 1
            return error, cfg.latency_ms / 1000.0

    def release(self, client: str) -> None:
        """A request admitted by :meth:`admit` has finished."""
        with self._lock:
            if self._in_flight[client] > 0:
                self._in_flight[client] -= 1

    async def delay(self, seconds: float) -> None:
        """Sleep for the injected latency."""
        if seconds > 0:
            await asyncio.sleep(seconds)


class RequestCounter:
    """Counts requests per service and method, and the operations inside ``$batch`` requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self._requests: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            self._statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            self._operations: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            self._targets: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def count(self, service: str, method: str, status: int) -> None:
        """Record one HTTP request and the status it was answered with."""
        with self._lock:
            self._requests[service][method] += 1
            self._statuses[service][str(status)] += 1

    def count_operation(self, service: str, method: str) -> None:
        """Record one operation carried inside a ``$batch``."""
        with self._lock:
            self._operations[service][method] += 1

    def count_bulk_targets(self, service: str, action: str, targets: int) -> None:
        """Record the records (``Targets``) one bulk message (``UpsertMultiple``...) carried."""
        with self._lock:
            self._targets[service][action] += targets

    def snapshot(self) -> dict[str, Any]:
        """``{"total": n, "requests": {service: {method: n}}, "statuses": {service: {status:
        n}}, "batch_operations": {service: {method: n}}, "bulk_targets": {service: {action:
        n}}}``."""
        with self._lock:
            requests = {s: dict(m) for s, m in self._requests.items()}
            return {
                "total": sum(sum(m.values()) for m in requests.values()),
                "requests": requests,
                "statuses": {s: dict(m) for s, m in self._statuses.items()},
                "batch_operations": {s: dict(m) for s, m in self._operations.items()},
                "bulk_targets": {s: dict(m) for s, m in self._targets.items()},
            }
