"""``integrator sandbox serve`` and ``integrator sandbox seed``."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from integrator.cli.app import sandbox_app

__all__ = ["serve"]


def _budget(text: str | None) -> tuple[int | None, float]:
    if not text:
        return None, 300.0
    count, _, window = text.partition("/")
    try:
        return int(count), float(window or 300)
    except ValueError:
        raise typer.BadParameter(
            f"expected REQUESTS/SECONDS such as 6000/300, not {text!r}"
        ) from None


@sandbox_app.command("serve")
def serve(
    data: Annotated[Path, typer.Option("--data", help="Directory of the SQLite files.")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port; 0 picks a free one.")] = 8700,
    without_solution: Annotated[
        bool,
        typer.Option("--without-solution", help="Serve Sales as before the P2C solution."),
    ] = False,
    fault_429: Annotated[float, typer.Option("--fault-429", help="Share of 429s (0-1).")] = 0.0,
    fault_500: Annotated[float, typer.Option("--fault-500", help="Share of 500s (0-1).")] = 0.0,
    fault_503: Annotated[float, typer.Option("--fault-503", help="Share of 503s (0-1).")] = 0.0,
    retry_after: Annotated[
        int, typer.Option("--retry-after", help="Retry-After seconds on injected faults.")
    ] = 1,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="Latency added to every request.")
    ] = 0.0,
    budget: Annotated[
        str | None,
        typer.Option("--budget", help="Service protection limit REQUESTS/SECONDS, e.g. 6000/300."),
    ] = None,
    max_concurrent: Annotated[
        int | None, typer.Option("--max-concurrent", help="Concurrent requests per client.")
    ] = None,
    fault_seed: Annotated[int, typer.Option("--fault-seed", help="Seed of the fault dice.")] = 0,
    tls_cert: Annotated[
        Path | None,
        typer.Option("--tls-cert", help="Serve https with this PEM certificate (chain)."),
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="The PEM private key of --tls-cert.")
    ] = None,
) -> None:
    """Serve Sales, CDS and F&O from the SQLite files in DIR until Ctrl-C.

    Sales at /sales/api/data/v9.2/, CDS at /cds/api/data/v9.2/, F&O at /finops/data/.
    Faults can be changed while running with PUT /_sandbox/faults.

    Example: integrator sandbox serve --data ./sandbox --port 8700 --fault-429 0.05

    Example (https): integrator sandbox serve --data ./sandbox --tls-cert cert.pem --tls-key key.pem
    """
    from integrator.sandbox.http import FaultConfig
    from integrator.sandbox.server import SandboxServer
    from integrator.sandbox.stores import SandboxStore

    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("--tls-cert and --tls-key go together")
    budget_requests, budget_window = _budget(budget)
    try:
        faults = FaultConfig.from_dict(
            {
                "seed": fault_seed,
                "rate_429": fault_429,
                "rate_500": fault_500,
                "rate_503": fault_503,
                "retry_after": retry_after,
                "latency_ms": latency_ms,
                "budget_requests": budget_requests,
                "budget_window_seconds": budget_window,
                "budget_concurrent": max_concurrent,
            }
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    store = SandboxStore.open(data, with_solution=not without_solution)
    try:
        server = SandboxServer(
            store, host=host, port=port, faults=faults, tls_certfile=tls_cert, tls_keyfile=tls_key
        )
    except OSError as exc:
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"integrator sandbox serving {data} at {server.url}", err=False)
    for name, handler in server.sandbox.handlers.items():
        typer.echo(f"  {name:7} {server.url}{handler.service.service.base_path}")
    # uvicorn re-raises the Ctrl-C it handled once it has shut down cleanly
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    typer.echo("integrator sandbox stopped")


from integrator.sandbox.stores.cli import register_seed  # noqa: E402

register_seed(sandbox_app)
