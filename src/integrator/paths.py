"""Paths that configuration names relative to a folder and that must stay inside it (secret
files, value-map files): one check, so ``..`` and symbolic links out are refused alike."""

from __future__ import annotations

from pathlib import Path

__all__ = ["PathLeavesFolder", "resolve_inside"]


class PathLeavesFolder(ValueError):
    """``written`` does not stay inside its folder; ``how`` says why, for messages
    (``"uses '..'"``, ``"is a link to /etc/passwd"``, ``"is an absolute path"``)."""

    def __init__(self, written: str, how: str) -> None:
        super().__init__(f"{written} {how}")
        self.how = how


def resolve_inside(folder: Path, written: str | Path) -> Path:
    """``folder / written`` with links followed, when that stays inside ``folder``. Raises
    :class:`PathLeavesFolder` for an absolute path elsewhere, any ``..`` part (even one that
    comes back), or a symbolic link that leads out."""
    base = folder.resolve()
    path = Path(written)
    if ".." in path.parts:
        raise PathLeavesFolder(str(written), "uses '..'")
    resolved = (base / path).resolve()
    if resolved.is_relative_to(base):
        return resolved
    if path.is_absolute():
        raise PathLeavesFolder(str(written), "is an absolute path")
    raise PathLeavesFolder(str(written), f"is a link to {resolved}")
