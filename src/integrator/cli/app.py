"""The Typer applications every command module attaches its commands to."""

from __future__ import annotations

import typer

__all__ = ["app", "sandbox_app"]

app = typer.Typer(
    name="integrator",
    help="Keep Dynamics 365 Sales in sync with Finance and Operations through CDS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

sandbox_app = typer.Typer(
    help="Serve or seed the sandbox: Sales, CDS and F&O on this machine.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")
