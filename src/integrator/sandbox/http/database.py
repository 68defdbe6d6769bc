"""SQLite work off the event loop: one writer thread and a few reader threads per service.

Writes (and whole ``$batch`` requests) run one at a time on the writer thread's connection, so
the store never sees two writers; reads run on reader threads with their own connections and
see committed data (the database is in WAL mode). Each thread opens its connection on first use
through the store's ``connect`` (which registers whatever functions its triggers need).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["ServiceDatabase"]

T = TypeVar("T")


class ServiceDatabase:
    """Runs functions of a connection on the writer thread or on a reader thread."""

    def __init__(self, name: str, connect: Callable[[], sqlite3.Connection], readers: int = 3):
        self.name = name
        self._connect = connect
        self._local = threading.local()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix=f"sandbox-{name}-writer")
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix=f"sandbox-{name}-reader")
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.isolation_level = None
            conn.execute("PRAGMA busy_timeout = 10000")
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return fn(self._connection())

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` on the writer thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._call, fn)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` on a reader thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._call, fn)

    def close(self) -> None:
        """Stop the threads and close every connection they opened."""
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            # a connection made with check_same_thread=True is freed with its thread instead
            with contextlib.suppress(sqlite3.ProgrammingError):
                conn.close()
