"""``integrator serve``: run the workspace's schedules and send its notifications."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer

from integrator.cli.app import app
from integrator.cli.errors import with_exit_codes
from integrator.cli.options import WorkspaceOption
from integrator.config.workspace import load_workspace

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
) -> None:
    """Run the workspace's schedules and send its notifications until stopped.

    Each project's schedule (`integrator schedule`) starts its runs on time: one at a time per
    project, a slot that comes due while the previous run still runs waits for it, slots
    missed while nothing served fold into one run. SIGINT or SIGTERM stops it cleanly: a run
    in progress commits its batch and is recorded Interrupted; exit code 0 (1 when a part of
    the server failed).

    Example: integrator serve --workspace ./p2c --port 8780
    """
    from integrator.serve.server import WorkspaceServer

    ws = load_workspace(workspace, strict=False)
    server = WorkspaceServer(ws.root, host=host, port=port, say=_say)
    scheduled = sorted(n for n, p in ws.projects.items() if p.schedule is not None)
    _say(f"integrator serve: workspace {ws.root}, status at {server.url}/api/status")
    if scheduled:
        _say(f"{len(scheduled)} scheduled project(s): " + ", ".join(scheduled))
    else:
        _say(
            "no project has a schedule yet (integrator schedule PROJECT --every 15m); "
            "waiting for one"
        )
    _say("stop with Ctrl-C or SIGTERM")
    clean = server.serve()
    _say("integrator serve: stopped")
    raise typer.Exit(0 if clean else 1)
