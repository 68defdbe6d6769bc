"""An engine on SQL connections to a sandbox's stores, its reads cut into ranges of N records."""

from __future__ import annotations

from pathlib import Path

from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.connections import ConnectorPool
from integrator.engine.run import Engine
from integrator.sandbox.sqlaccess import sql_connectors


def partitioned_engine(root_dir: Path, data_dir: Path, partition_records: int | None) -> Engine:
    """An engine on a new workspace at ``root_dir`` whose systems are the SQL stores in
    ``data_dir``, with ``partition_records`` (``None``: reads never cut)."""
    root = init_workspace(root_dir, "http://127.0.0.1:9")
    settings = root / "integrator.yaml"
    value = "null" if partition_records is None else str(partition_records)
    settings.write_text(settings.read_text() + f"partition_records: {value}\n")
    workspace = load_workspace(root)
    connectors = sql_connectors(data_dir)
    pool = ConnectorPool(workspace, factory=lambda system, _c, _w: connectors[system])
    return Engine(workspace, connectors=pool)
