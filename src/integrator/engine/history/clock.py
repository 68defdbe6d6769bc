"""Timestamps and the run owner, as the history stores them."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

__all__ = ["iso", "now_iso", "owner"]


def iso(moment: datetime) -> str:
    """``moment`` (UTC) as ISO-8601 with milliseconds and ``Z``: strings that sort as times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    """The current UTC time as :func:`iso` writes it."""
    return iso(datetime.now(UTC))


def owner() -> str:
    """Who runs: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"
