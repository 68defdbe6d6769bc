"""``integrator serve``: run the workspace's schedules and send its notifications."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from integrator.cli.app import app
from integrator.cli.errors import with_exit_codes
from integrator.cli.options import WorkspaceOption
from integrator.config.workspace import load_workspace
from integrator.errors import UsageError
from integrator.portal.auth import PortalCredentials
from integrator.serve.server import is_loopback

if TYPE_CHECKING:
    from pathlib import Path

    from integrator.serve.server import WorkspaceServer

__all__ = ["serve"]


def _say(line: str) -> None:
    """One line of the server's log: local time, then the event."""
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
    sys.stdout.write(f"{stamp}  {line}\n")
    sys.stdout.flush()


@app.command("serve")
@with_exit_codes()
def serve(
    workspace: WorkspaceOption = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (a loopback address).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: a free one).")] = 8780,
    no_auth: Annotated[
        bool,
        typer.Option("--no-auth", help="Serve the portal without sign-in (loopback only)."),
    ] = False,
    set_password: Annotated[
        bool,
        typer.Option(
            "--set-password",
            help="Set the portal's password (asked for; read from stdin when piped), then exit.",
        ),
    ] = False,
    new_token: Annotated[
        bool,
        typer.Option(
            "--new-token", help="Print a new bearer token for the portal's API, then exit."
        ),
    ] = False,
) -> None:
    """Serve the portal, run the workspace's schedules and send its notifications until
    stopped.

    The portal (open the URL it prints) shows the projects, their mappings and the execution
    history, and edits the same files the command line does. It asks for the password set
    with --set-password; scripts send a token from --new-token (`Authorization: Bearer …`).
    Each project's schedule (`integrator schedule`) starts its runs on time: one at a time per
    project, a slot that comes due while the previous run still runs waits for it, slots
    missed while nothing served fold into one run. SIGINT or SIGTERM stops it cleanly: a run
    in progress commits its batch and is recorded Interrupted; exit code 0 (1 when a part of
    the server failed).

    Example: integrator serve --workspace ./p2c --port 8780
    """
    from integrator.serve.server import WorkspaceServer

    ws = load_workspace(workspace, strict=False)
    if set_password or new_token:
        _set_credentials(ws.root, password=set_password, token=new_token)
        return
    server = WorkspaceServer(ws.root, host=host, port=port, say=_say, no_auth=no_auth)
    scheduled = sorted(n for n, p in ws.projects.items() if p.schedule is not None)
    _say(f"integrator serve: workspace {ws.root}, status at {server.url}/api/status")
    _say(f"portal at {server.url}/ " + _sign_in_words(server))
    if scheduled:
        _say(f"{len(scheduled)} scheduled project(s): " + ", ".join(scheduled))
    else:
        _say(
            "no project has a schedule yet (integrator schedule PROJECT --every 15m); "
            "waiting for one"
        )
    if not is_loopback(host):
        _say(
            f"serving {host} over plain HTTP: put a TLS proxy in front of it before "
            "anyone signs in from another machine"
        )
    _say("stop with Ctrl-C or SIGTERM")
    clean = server.serve()
    _say("integrator serve: stopped")
    raise typer.Exit(0 if clean else 1)


def _sign_in_words(server: WorkspaceServer) -> str:
    if server.portal.no_auth:
        return "(no sign-in: --no-auth)"
    if server.portal.credentials.password_hash is None:
        return "(no password set yet: integrator serve --set-password)"
    return "(sign in with the portal's password)"


def _read_password() -> str:
    """The new password: asked twice at a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        first = typer.prompt("New portal password", hide_input=True)
        again = typer.prompt("The same password again", hide_input=True)
        if first != again:
            raise UsageError("the two passwords differ; nothing was changed")
        return str(first)
    return sys.stdin.readline().rstrip("\r\n")


def _set_credentials(root: Path, *, password: bool, token: bool) -> None:
    """``--set-password`` and ``--new-token``: change the portal's credentials, then exit."""
    credentials = PortalCredentials.load(root)
    if password:
        new = _read_password()
        try:
            credentials.set_password(new)
        except ValueError as error:
            raise UsageError(f"{error} (it had {len(new)}); nothing was changed") from None
        typer.echo(
            f"The portal's password is set (stored hashed in {credentials.path}); "
            "everyone signed in is signed out."
        )
    if token:
        value = credentials.new_token()
        typer.echo(value)
        typer.echo(
            "A new API token (shown only now; stored hashed). Send it as "
            "`Authorization: Bearer <token>`.",
            err=True,
        )
