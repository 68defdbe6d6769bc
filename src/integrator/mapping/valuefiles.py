"""Value maps kept in CSV files: ``{type: ValueMap, file: maps/countries.csv}``.

A big value map in YAML is slow to load (round-trip parsing costs 15-30 s per MB), so a mapping
may name a CSV file instead: two columns under the header ``source,destination``, one entry per
line, read with the :mod:`csv` module (a 4 MB map loads in a fraction of a second). The path is
relative to the workspace's root folder and must stay inside it.

Which workspace: validation (:func:`integrator.config.validate.validate_workspace`) names it with
:func:`use_workspace_root` before any mapping is checked or compiled; one process works on one
workspace at a time. A file is read once per content (size and modification time) and kept.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable
from pathlib import Path

from integrator.paths import PathLeavesFolder, resolve_inside

__all__ = [
    "ValueFileError",
    "load_value_file",
    "use_workspace_root",
    "workspace_root",
]

_HEADER = ("source", "destination")
_lock = threading.Lock()
_root: Path | None = None
Key = Callable[[str], str]
_cache: dict[tuple[Path, Key], tuple[tuple[int, int], dict[str, str]]] = {}


class ValueFileError(ValueError):
    """A value-map file cannot be used; the message names the file (and line) and the fix."""


def use_workspace_root(root: Path | str | None) -> None:
    """Resolve value-map files against ``root`` from now on (``None``: no workspace)."""
    global _root
    with _lock:
        _root = None if root is None else Path(root).resolve()


def workspace_root() -> Path | None:
    """The root set by :func:`use_workspace_root`, if any."""
    return _root


def _resolve(file: str) -> Path:
    root = _root
    if root is None:
        raise ValueFileError(
            f"{file}: a value map in a file needs a workspace (run it through a workspace's "
            "project)"
        )
    try:
        return resolve_inside(root, file)
    except PathLeavesFolder as leaves:
        raise ValueFileError(
            f"{file}: the value-map file must be inside the workspace ({root}), but it "
            f"{leaves.how}; give a path relative to the workspace's folder, e.g. maps/countries.csv"
        ) from None


def load_value_file(file: str, key: Key = str) -> dict[str, str]:
    """The entries of the value-map file ``file`` (relative to the workspace root), source →
    destination, each source passed through ``key`` (how the map compares values).

    Raises :class:`ValueFileError` naming ``file`` (and its line) when the file is outside the
    workspace, missing or unreadable, lacks the ``source,destination`` header, has a line
    without exactly two columns, or gives one source two different destinations.
    """
    path = _resolve(file)
    try:
        stat = path.stat()
    except OSError as exc:
        raise ValueFileError(f"{file}: cannot read the value-map file: {exc.strerror}") from None
    stamp = (stat.st_size, stat.st_mtime_ns)
    cached = _cache.get((path, key))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueFileError(f"{file}: cannot read the value-map file: {exc}") from None
    entries = _parse(text, file, key)
    _cache[(path, key)] = (stamp, entries)
    return entries


def _parse(text: str, file: str, key: Key) -> dict[str, str]:
    reader = csv.reader(io.StringIO(text, newline=""))
    entries: dict[str, str] = {}
    lines: dict[str, int] = {}
    try:
        header = next(reader, None)
        if header is None or tuple(c.strip().casefold() for c in header) != _HEADER:
            raise ValueFileError(
                f"{file}:1: a value-map file starts with the header line 'source,destination'"
            )
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            if len(row) != 2:
                raise ValueFileError(
                    f"{file}:{line}: expected 2 columns (source,destination), found {len(row)}"
                )
            source, destination = row
            k = key(source)
            if k in entries and entries[k] != destination:
                raise ValueFileError(
                    f"{file}:{line}: '{source}' is mapped again (first on line {lines[k]}) to a "
                    "different value"
                )
            entries[k] = destination
            lines.setdefault(k, line)
    except csv.Error as exc:
        raise ValueFileError(f"{file}:{reader.line_num}: {exc}") from None
    if not entries:
        raise ValueFileError(f"{file}: the value-map file has no entries under its header")
    return entries
