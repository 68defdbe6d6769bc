"""Commands the CLI suggests (``integrator history --run 12 --workspace ./p2c``), spelled so
the user can type them as printed: quoted for the shell, with ``--workspace`` when the workspace
is not the one the current folder would find."""

from __future__ import annotations

import shlex
from pathlib import Path

__all__ = ["suggested_command", "workspace_argument"]


def workspace_argument(given: Path | None, root: Path | None = None) -> str | None:
    """What to pass as ``--workspace`` in a suggested command: the folder as the user gave
    it; when found from the current folder, its root unless that is the current folder
    (``None``: no ``--workspace`` needed)."""
    if given is not None:
        return str(given)
    if root is None or root.resolve() == Path.cwd().resolve():
        return None
    return str(root)


def suggested_command(*args: str, workspace: str | None = None) -> str:
    """``integrator ARGS [--workspace WS]`` quoted for a POSIX shell."""
    words = ["integrator", *args, *(("--workspace", workspace) if workspace else ())]
    return shlex.join(words)
