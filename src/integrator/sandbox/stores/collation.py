"""One case-insensitive rule for every string comparison in the stores: Unicode case folding.

Dynamics compares strings case-insensitively (Dataverse: "All filters using string values are
case insensitive", ``powerapps-docs/developer/data-platform/webapi/query/filter-rows.md``).
SQLite's built-in ``NOCASE`` folds ASCII letters only, so ``'JÜRGEN'`` would not find
``'Jürgen'``. :func:`register_text_functions` replaces ``NOCASE`` on a connection with a
collation that compares ``str.casefold()`` forms (which the stores' text columns and their
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

__all__ = ["COLLATION_VERSION", "casefold_compare", "register_text_functions"]

#: recorded in a store's ``_meta``; a file indexed under another rule is re-indexed on open
COLLATION_VERSION = "casefold-1"


def casefold_compare(left: str, right: str) -> int:
    """-1, 0 or 1 as ``left`` sorts before, with or after ``right``, ignoring case (Unicode)."""
    if left == right:
        return 0
    a, b = left.casefold(), right.casefold()
    return (a > b) - (a < b)


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
