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
    portal: Annotated[
        bool,
        typer.Option(
            "--portal",
            help="Then serve the portal on the demo's workspace (no sign-in, loopback) until "
            "Ctrl-C.",
        ),
    ] = False,
    portal_port: Annotated[
        int, typer.Option("--portal-port", help="The portal's port with --portal.")
    ] = 8780,
) -> None:
    """Run the whole flow on an embedded sandbox, nothing to set up.

    Seeds Sales, runs the three P2C projects, shows the history and where the records went,
    and fixes the Warning the seed document warns about. With --portal it then serves the
    portal on the demo's workspace, its sandbox still running, until Ctrl-C.

    Example: integrator demo
    """
    from integrator.demo import run_demo

    run_demo(
        directory,
        accounts=accounts,
        contacts=contacts,
        portal_port=portal_port if portal else None,
    )
