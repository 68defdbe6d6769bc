"""Helpers for workspace tests: the project names and editing a file as a user would."""

from __future__ import annotations

from pathlib import Path

SANDBOX = "http://127.0.0.1:8700"
ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
CUSTOMERS = "Contacts to Customer (Sales to Fin and Ops)"


def edit(path: Path, old: str, new: str, count: int = 1) -> str:
    """Replace ``old`` by ``new`` in the file (it must be there); return the new text."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    text = text.replace(old, new, count)
    path.write_text(text, encoding="utf-8")
    return text


def line_containing(path: Path, needle: str, *, whole: bool = False) -> int:
    """The 1-based number of the first line of ``path`` containing ``needle`` (with ``whole``:
    the line that is ``needle``)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line == needle if whole else needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")
