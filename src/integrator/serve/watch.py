"""Reloading a workspace when its files change, keeping the last one that loaded."""

from __future__ import annotations

import logging
from pathlib import Path

from integrator.config.workspace import Workspace, load_workspace
from integrator.errors import ConfigError

__all__ = ["WorkspaceWatch"]

log = logging.getLogger(__name__)

#: the files a workspace is made of (relative to its root), as globs
_FILES = ("integrator.yaml", "connections.yaml", "projects/*.yaml", "templates/*.yaml")


class WorkspaceWatch:
    """The workspace at ``root``, loaded again when one of its files changes (is added,
    removed, edited). A workspace that no longer loads at all keeps the last good one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._signature = self._stat()
        self.workspace = load_workspace(root, strict=False)

    def current(self) -> Workspace:
        """The workspace as its files are now (reloaded only when they changed)."""
        signature = self._stat()
        if signature != self._signature:
            self._signature = signature
            try:
                self.workspace = load_workspace(self.root, strict=False)
            except ConfigError as error:
                log.warning("the workspace no longer loads, keeping the last one: %s", error)
        return self.workspace

    def _stat(self) -> tuple[tuple[str, int, int], ...]:
        found: list[tuple[str, int, int]] = []
        for pattern in _FILES:
            for path in sorted(self.root.glob(pattern)):
                try:
                    info = path.stat()
                except OSError:
                    continue
                found.append((str(path), info.st_mtime_ns, info.st_size))
        return tuple(found)
