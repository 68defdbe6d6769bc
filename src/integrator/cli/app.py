"""The Typer applications every command module attaches its commands to."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

__all__ = ["app", "installed_version", "sandbox_app"]

app = typer.Typer(
    name="integrator",
    help="Keep Dynamics 365 Sales in sync with Finance and Operations through CDS.\n\n"
    "Example: integrator init ./p2c --sandbox http://127.0.0.1:8700",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

sandbox_app = typer.Typer(
    help="Serve or seed the sandbox: Sales, CDS and F&O on this machine.\n\n"
    "Example: integrator sandbox seed --data ./sandbox --accounts 1000 --contacts 10000",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")


def installed_version() -> str:
    """The version of the installed ``integrator`` package (its metadata), or ``unknown``."""
    try:
        return version("integrator")
    except PackageNotFoundError:
        return "unknown"


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"integrator {installed_version()}")
        raise typer.Exit(0)


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the installed version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    """The options of every command (the help text is the application's ``help``)."""
