"""Scenario A's integrator side: the engine over SQL connections straight to the sandbox stores.

Jobs (each runs in its own process, see :mod:`benchmarks.measure`):

- :func:`seed_job`: a Sales store with N contacts and N/10 accounts (``seed_sales``'s mix);
- :func:`engine_run_job`: the three P2C projects, run as ``integrator run`` runs them, through
  ``sql_connectors`` (CDS and F&O keep their rules as triggers); optionally under cProfile;
- :func:`change_contacts_job`: change a share of the contacts with plain SQL on ``sales.db``,
  so the upkeep triggers stamp new ``versionnumber`` values (the watermark).
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.connections import ConnectorPool
from integrator.engine.run import Engine
from integrator.sandbox.sqlaccess import sql_connectors
from integrator.sandbox.stores import SandboxStore
from integrator.sandbox.stores.seed import seed_sales

__all__ = [
    "change_contacts_job",
    "copy_stores",
    "drop_postgres_schema",
    "engine_run_job",
    "new_workspace",
    "postgres_schema_url",
    "run_summary",
    "seed_job",
]

STORE_FILES = ("sales.db", "cds.db", "finops.db")


def seed_job(data_dir: str, contacts: int, random_seed: int = 0) -> dict[str, Any]:
    """Job: seed ``contacts`` contacts and a tenth as many accounts into a new sandbox."""
    report = seed_sales(
        data_dir, accounts=max(contacts // 10, 1), contacts=contacts, random_seed=random_seed
    )
    _checkpoint(Path(data_dir))
    return {
        "accounts": report.accounts,
        "contacts": report.contacts,
        "quotes": report.quotes,
        "salesorders": report.salesorders,
        "invoices": report.invoices,
        "seconds": round(report.seconds, 3),
    }


def _checkpoint(data_dir: Path) -> None:
    """Fold each store's WAL into its file, so the files alone hold the data."""
    SandboxStore.open(data_dir, with_solution=None)
    for name in STORE_FILES:
        conn = sqlite3.connect(data_dir / name)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()


def copy_stores(source: Path, target: Path) -> None:
    """A copy of the sandbox stores in ``source`` at ``target`` (replaced if present)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    _checkpoint(source)
    for name in STORE_FILES:
        shutil.copyfile(source / name, target / name)


def new_workspace(root: Path, history_url: str | None = None) -> Path:
    """A fresh workspace (the three P2C projects) at ``root``; its SQL connectors are plugged
    in by :func:`engine_run_job`, so the URL it names is never used. With ``history_url``, its
    history is kept in that database (``integrator.yaml``'s ``history.database_url``)."""
    shutil.rmtree(root, ignore_errors=True)
    workspace = init_workspace(root, "http://127.0.0.1:9")
    if history_url is not None:
        settings = workspace / "integrator.yaml"
        text = settings.read_text()
        settings.write_text(
            text.replace("database_url: null", f"database_url: {json.dumps(history_url)}", 1)
        )
    return workspace


def postgres_schema_url(url: str, schema: str) -> str:
    """``url`` (a PostgreSQL server) with a new, empty ``schema`` first on its search path:
    the schema is dropped if present and created. The history's tables are made there."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    finally:
        engine.dispose()
    return (
        sa.make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


def drop_postgres_schema(url: str, schema: str) -> None:
    """Drop ``schema`` (and what it holds) on the server at ``url``."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        engine.dispose()


def run_summary(runs: list[Any]) -> list[dict[str, Any]]:
    """Project, status and per-task counts of finished runs (``RunSummary`` objects)."""
    return [
        {
            "project": run.project,
            "status": str(run.status.value if hasattr(run.status, "value") else run.status),
            "tasks": [{"name": t.name, **t.counts.as_dict()} for t in run.tasks],
        }
        for run in runs
    ]


def engine_run_job(
    workspace: str, data_dir: str, all_data: bool = False, profile: str | None = None
) -> dict[str, Any]:
    """Job: run every project of ``workspace`` over SQL connectors to the stores in
    ``data_dir``. With ``profile`` (a file path), under cProfile: the stats go to that file and
    the top entries come back as text."""
    connectors = sql_connectors(data_dir)
    pool = ConnectorPool(
        load_workspace(workspace), factory=lambda system, _c, _w: connectors[system]
    )
    engine = Engine(pool.workspace, connectors=pool)
    profiler = cProfile.Profile() if profile else None
    try:
        if profiler is not None:
            profiler.enable()
        runs = engine.run(all_data=all_data)
        if profiler is not None:
            profiler.disable()
    finally:
        engine.close()
    result: dict[str, Any] = {"runs": run_summary(runs)}
    if profiler is not None and profile:
        profiler.dump_stats(profile)
        result["profile"] = profile_text(profile)
    return result


def profile_text(path: str, top: int = 30) -> dict[str, str]:
    """The top entries of a cProfile stats file, by cumulative and by own time."""
    out = {}
    for order in ("cumulative", "tottime"):
        buffer = io.StringIO()
        stats = pstats.Stats(path, stream=buffer)
        stats.strip_dirs().sort_stats(order).print_stats(top)
        text = buffer.getvalue()
        out[order] = text[text.find("   ncalls") :].rstrip()
    return out


def change_contacts_job(data_dir: str, share: float = 0.01) -> dict[str, Any]:
    """Job: give ``share`` of the contacts a new e-mail address (mapped in every contact leg),
    through SQL on ``sales.db`` so the triggers bump their ``versionnumber``."""
    step = max(round(1 / share), 1)
    conn = sqlite3.connect(Path(data_dir) / "sales.db", isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("BEGIN IMMEDIATE")
        changed = conn.execute(
            "UPDATE contacts SET emailaddress1 = 'changed.' || rowid || '@example.com'"
            " WHERE rowid % ? = 0",
            (step,),
        ).rowcount
        conn.execute("COMMIT")
    finally:
        conn.close()
    return {"changed": changed}
