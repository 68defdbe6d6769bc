"""Options several commands share, so that they read the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["JsonOption", "WorkspaceOption"]

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="The workspace folder (default: found from the current directory upwards).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document, no colours.")]
