"""Entry point of the ``integrator`` command: imports each command module, then runs Typer."""

from __future__ import annotations

from integrator.cli import engine_commands, sandbox_commands  # noqa: F401  (registers commands)
from integrator.cli import workspace_commands  # noqa: F401
from integrator.cli.app import app

__all__ = ["main"]


def main() -> None:
    """Run the ``integrator`` command line."""
    app()


if __name__ == "__main__":
    main()
