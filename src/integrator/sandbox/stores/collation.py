"""One rule for every string comparison in the stores: Unicode case folding, trailing spaces
ignored.

Dynamics compares strings case-insensitively (Dataverse: "All filters using string values are
case insensitive", ``powerapps-docs/developer/data-platform/webapi/query/filter-rows.md``), in
SQL Server collations (F&O: ``SQL_Latin1_General_CP1_CI_AS`` is the only one supported) whose
``=`` pads the shorter string with spaces first (ANSI/ISO SQL-92; "String comparison using
the = operator", learn.microsoft.com/sql/t-sql/language-elements/string-comparison-assignment),
so ``'CON-1'`` and ``'CON-1 '`` are one key. Accents still count (``_AS``).
SQLite's built-in ``NOCASE`` folds ASCII letters only, so ``'JÜRGEN'`` would not find
``'Jürgen'``. :func:`register_text_functions` replaces ``NOCASE`` on a connection with a
collation that compares :func:`fold_text` forms (which the stores' text columns and their
indexes already name), and adds the deterministic functions the ``$filter`` compiler calls:
``odata_casefold`` (for ``contains``/``startswith``/``endswith``), ``odata_lower`` and
``odata_upper`` (``tolower``/``toupper``, Unicode-aware). Python's ``evaluate`` uses the same
``casefold``, so the sandbox and integrator's own filtering select the same rows.

Every connection to a store file must register these (``connect_file`` does): an index built
under this ``NOCASE`` and searched under SQLite's own would miss non-ASCII rows.
"""

from __future__ import annotations

import sqlite3
from typing import Any

__all__ = ["COLLATION_VERSION", "casefold_compare", "fold_text", "register_text_functions"]

#: recorded in a store's ``_meta``; a file indexed under another rule is re-indexed on open
COLLATION_VERSION = "casefold-rstrip-2"


def fold_text(text: str) -> str:
    """``text`` as the stores compare it: trailing spaces (U+0020 only, as SQL Server pads)
    removed, then case-folded; two strings are equal when their folds are."""
    return text.rstrip(" ").casefold()


def casefold_compare(left: str, right: str) -> int:
    """-1, 0 or 1 as ``left`` sorts before, with or after ``right``, ignoring case (Unicode)
    and trailing spaces."""
    if left == right:
        return 0
    # fold_text inlined: SQLite calls this for every key comparison in the stores' indexes
    a, b = left.rstrip(" ").casefold(), right.rstrip(" ").casefold()
    if a == b:
        return 0
    return -1 if a < b else 1


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bytes):
        return None
    return value if isinstance(value, str) else str(value)


def _casefold(value: Any) -> str | None:
    text = _text(value)
    return None if text is None else text.casefold()


def _lower(value: Any) -> str | None:
    text = _text(value)
    return None if text is None else text.lower()


def _upper(value: Any) -> str | None:
    text = _text(value)
    return None if text is None else text.upper()


def register_text_functions(conn: sqlite3.Connection) -> None:
    """Install the casefold ``NOCASE`` collation and the ``odata_*`` functions on ``conn``."""
    conn.create_collation("NOCASE", casefold_compare)
    conn.create_function("odata_casefold", 1, _casefold, deterministic=True)
    conn.create_function("odata_lower", 1, _lower, deterministic=True)
    conn.create_function("odata_upper", 1, _upper, deterministic=True)
