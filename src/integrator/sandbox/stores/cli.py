"""``integrator sandbox seed``: fill a sandbox's Sales with realistic data."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register_seed"]


def register_seed(sandbox_app: typer.Typer) -> None:
    """Add the ``seed`` command to the ``integrator sandbox`` Typer app."""

    @sandbox_app.command("seed")
    def seed(
        data: Annotated[Path, typer.Option("--data", help="The sandbox's data directory.")],
        accounts: Annotated[int, typer.Option("--accounts", min=0, help="Accounts to add.")] = 0,
        contacts: Annotated[int, typer.Option("--contacts", min=0, help="Contacts to add.")] = 0,
        random_seed: Annotated[
            int, typer.Option("--random-seed", help="Same seed, same data.")
        ] = 0,
    ) -> None:
        """Add realistic Sales accounts, contacts, quotes, orders and invoices to a sandbox.

        Example: integrator sandbox seed --data ./sandbox --accounts 1000 --contacts 10000
        """
        from integrator.sandbox.stores.seed import seed_sales

        try:
            report = seed_sales(data, accounts=accounts, contacts=contacts, random_seed=random_seed)
        except (OSError, sqlite3.Error) as exc:
            typer.echo(f"error: cannot seed {data}: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(report.summary())
