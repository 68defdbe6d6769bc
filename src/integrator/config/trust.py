"""Whether a workspace found by searching upward may be trusted, like git's ``safe.directory``
and ssh's ``StrictModes``.

A workspace named with ``--workspace`` is trusted as named. A workspace *found* above the
current folder is used only when nobody but you (or root) could have put it there or changed it:

* its folder and the files and folders integrator reads in it (``integrator.yaml``,
  ``connections.yaml``, ``projects/``, ``templates/`` and the ``*.yaml`` files in those two) are
  owned by you or by root, and are writable by their owner only (no group or other write bit);
* every folder above it is owned by you or by root and is not writable by group or others,
  unless it has the sticky bit (``/tmp``: others cannot rename or remove what is not theirs).

Symbolic links are followed: what is checked is the file they point to.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from integrator.config.files import CONNECTIONS_FILE, PROJECTS_DIR, SETTINGS_FILE
from integrator.errors import ConfigError
from integrator.secrets import owner_problem
from integrator.templates.loader import USER_TEMPLATE_DIR

__all__ = ["check_discovered_workspace"]

_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


def _problem(path: Path, *, ancestor: bool) -> str | None:
    try:
        info = path.stat()
    except OSError:
        return None  # not there: nothing to trust (and nothing integrator reads)
    if (owner := owner_problem(info)) is not None:
        return owner
    if info.st_mode & _OTHERS_WRITE and os.name == "posix":
        if ancestor and stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX:
            return None
        return f"writable by others than its owner (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def _workspace_paths(root: Path) -> list[Path]:
    paths = [root, root / SETTINGS_FILE, root / CONNECTIONS_FILE]
    for folder in (root / PROJECTS_DIR, root / USER_TEMPLATE_DIR):
        paths.append(folder)
        if folder.is_dir():
            paths.extend(sorted(folder.glob("*.yaml")))
    return paths


def check_discovered_workspace(root: Path) -> None:
    """Refuse (:class:`ConfigError`, exit 2) the workspace at ``root``, found by searching
    upward, when another user could have planted or changed it (see the module's rules). The
    message names the first offending file or folder, its owner or mode, and the two ways out:
    ``--workspace PATH`` to trust it explicitly, or fixing ownership and permissions."""
    root = root.resolve()
    checks = [(p, False) for p in _workspace_paths(root)] + [(p, True) for p in root.parents]
    for path, ancestor in checks:
        problem = _problem(path, ancestor=ancestor)
        if problem is None:
            continue
        what = "a folder above the workspace" if ancestor else "part of the workspace"
        fix = f"chmod go-w {path}" if problem.startswith("writable") else f"chown $(id -u) {path}"
        raise ConfigError(
            f"not using the workspace found at {root}: {path} ({what}) is {problem}, so "
            "someone else could have planted or changed it. If you trust it, name it with "
            f"`--workspace {root}`; if it is yours, fix it (`{fix}`)"
        )
