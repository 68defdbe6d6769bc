"""Commands the CLI suggests (``integrator history --run 12 --workspace ./p2c``), spelled so
the user can type them as printed: quoted for the shell, with ``--workspace`` when the workspace
is not the one the current folder would find."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from integrator.config.workspace import Workspace

__all__ = ["WorkspaceHints", "suggested_command", "workspace_argument"]


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


@dataclass(frozen=True)
class WorkspaceHints:
    """What output needs to point a user at their workspace: the ``--workspace`` of suggested
    commands and each project's file (for the fixes that say which file to edit)."""

    #: ``--workspace`` for suggested commands (``None``: the current folder finds it)
    workspace: str | None = None
    #: project name → its file, as a path the user can open
    project_files: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, given: Path | None, workspace: Workspace) -> WorkspaceHints:
        """The hints for ``workspace``, loaded from ``given`` (``None``: found from here)."""
        return cls(
            workspace_argument(given, workspace.root),
            {name: str(workspace.root / file) for name, file in workspace.project_files.items()},
        )

    def command(self, *args: str) -> str:
        """``integrator ARGS`` with this workspace's ``--workspace`` when one is needed."""
        return suggested_command(*args, workspace=self.workspace)

    def project_file(self, project: str) -> str | None:
        """The file of ``project``, when known."""
        return self.project_files.get(project)
