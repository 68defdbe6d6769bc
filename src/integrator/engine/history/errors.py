"""What can go wrong with the history database itself, in words a person can act on.

The database driver's own errors (``sqlite3.DatabaseError: file is not a database``, a
``psycopg`` connection refused, ``database or disk is full``) are turned into these by the store
(:func:`translate`), so no command shows a traceback for them:

- :class:`HistoryDamaged` (exit 2): the file is not a history database, or is damaged. It is the
  user's file: integrator never deletes or replaces it, the message says how to move it aside.
- :class:`HistoryUnreachable` (exit 3): the PostgreSQL history cannot be reached.
- :class:`HistoryFull` (exit 1): the disk (or the database's size limit) is full; the page
  being committed was rolled back.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import exc
from sqlalchemy.engine import URL

from integrator.errors import IntegratorError, SystemUnreachable, UsageError

__all__ = ["HistoryDamaged", "HistoryError", "HistoryFull", "HistoryUnreachable", "translate"]


class HistoryError(IntegratorError):
    """Base of the errors of the history database itself."""

    category = "history"


def shown_url(url: URL) -> str:
    """``url`` as messages show it: ``postgresql://host:port/db``, never a password, driver or
    user name; a SQLite file as its path."""
    if url.get_backend_name() == "sqlite":
        return str(Path(url.database or ":memory:"))
    port = f":{url.port}" if url.port else ""
    return f"{url.get_backend_name()}://{url.host or 'localhost'}{port}/{url.database or ''}"


class HistoryDamaged(HistoryError, UsageError):
    """The history file is not a history database, or is damaged (exit code 2). Nothing was
    run; the file is left as it is."""

    category = "history-damaged"

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(
            f"the history database {where} is not a history database or is damaged ({reason}); "
            f"nothing was run. Move it aside (with any {Path(where).name}-wal and "
            f"{Path(where).name}-shm next to it), for example `mv {where} {where}.damaged`, "
            "and integrator creates a new, empty history on its next command (the next run "
            "then reads all data again). integrator never deletes it for you."
        )


class HistoryUnreachable(HistoryError, SystemUnreachable):
    """The history database (PostgreSQL) cannot be reached (exit code 3); nothing was run."""

    category = "history-unreachable"

    def __init__(self, where: str, reason: str) -> None:
        SystemUnreachable.__init__(self, reason, url=where, system="the history database")

    def __str__(self) -> str:
        return (
            f"the history database at {self.url} cannot be reached: {self.reason}; check that "
            "the server runs and the workspace's history.database_url (host, port, database)"
        )


class HistoryFull(HistoryError):
    """The history database could not grow: the disk, or the database's size limit, is full
    (SQLite ``SQLITE_FULL``, PostgreSQL ``disk_full``). The transaction was rolled back; the
    run ends in Error (exit code 1)."""

    category = "history-full"

    def __init__(self, where: str, reason: str, *, ended: str | None = None) -> None:
        self.where = where
        self.reason = reason
        self.ended = ended
        run = f"; {ended}" if ended else ""
        super().__init__(
            f"the history database is full: {where} ({reason}){run}. What was being committed "
            "was rolled back; rows already written stay, and the next run matches them by "
            "their keys. Free disk space, then run again: it goes on from the last committed "
            "page."
        )

    def outcome(self, ended: str) -> HistoryFull:
        """This error, saying how the run it stopped was ``ended``."""
        return HistoryFull(self.where, self.reason, ended=ended)


#: SQLite's words for a file that is not (or no longer) a database
_DAMAGED = ("file is not a database", "database disk image is malformed", "file is encrypted")
#: SQLite's and PostgreSQL's words for a full disk (PostgreSQL SQLSTATE 53100 disk_full)
_FULL = ("database or disk is full", "no space left on device", "could not extend file")


def translate(error: BaseException, url: URL, *, connecting: bool = False) -> HistoryError | None:
    """The :class:`HistoryError` a database driver error means (``connecting``: it was raised
    while connecting), or ``None`` when it is something else (a bug, which keeps its
    traceback)."""
    original = error.orig if isinstance(error, exc.DBAPIError) else error
    said = str(original).strip()
    text = said.splitlines()[0] if said else type(original).__name__
    lowered = text.lower()
    where = shown_url(url)
    if any(words in lowered for words in _FULL) or getattr(original, "sqlstate", None) == "53100":
        return HistoryFull(where, text)
    if url.get_backend_name() == "sqlite":
        if isinstance(original, sqlite3.DatabaseError) and any(w in lowered for w in _DAMAGED):
            return HistoryDamaged(where, text)
        return None
    if connecting or _is_connect_failure(lowered):
        return HistoryUnreachable(where, text)
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return HistoryUnreachable(where, text)
    return None


def _is_connect_failure(lowered: str) -> bool:
    return any(
        words in lowered
        for words in (
            "connection refused",
            "could not connect",
            "connection failed",
            "timeout expired",
            "could not translate host name",
            "name or service not known",
            "server closed the connection",
            "connection timed out",
            "no route to host",
        )
    )
