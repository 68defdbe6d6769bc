"""``integrator demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from integrator.cli.app import app
from integrator.cli.errors import with_exit_codes

__all__ = ["demo"]


@app.command("demo")
@with_exit_codes(interruptible=True)
def demo(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Keep the sandbox and workspace here (default: a temp folder)."),
    ] = None,
    contacts: Annotated[int, typer.Option("--contacts", help="Sales contacts to seed.")] = 2000,
    accounts: Annotated[int, typer.Option("--accounts", help="Sales accounts to seed.")] = 200,
) -> None:
    """Run the whole flow on an embedded sandbox, nothing to set up.

    Seeds Sales, runs the three P2C projects, shows the history and where the records went,
    and fixes the Warning the seed document warns about.

    Example: integrator demo
    """
    from integrator.demo import run_demo

    run_demo(directory, accounts=accounts, contacts=contacts)
