"""Entry point of the ``integrator`` command: imports each command module, then runs Typer."""

from __future__ import annotations

from integrator.cli import (  # noqa: F401  (each module registers its commands)
    cancel_command,
    demo_command,
    engine_commands,
    project_commands,
    sandbox_commands,
    schedule_command,
    serve_command,
    transforms_command,
    worker_command,
    workspace_commands,
)
from integrator.cli.app import app

__all__ = ["main"]


def main() -> None:
    """Run the ``integrator`` command line."""
    app()


if __name__ == "__main__":
    main()
