"""Connections in connections.yaml become connectors with the sizes the user set."""

from __future__ import annotations

from pathlib import Path

from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.connections import ConnectorPool


def test_page_and_batch_sizes_reach_the_connectors(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws", "http://127.0.0.1:9")
    connections = root / "connections.yaml"
    text = connections.read_text(encoding="utf-8")
    text = text.replace(
        "      kind: finops\n",
        "      kind: finops\n"
        "      page_size: 250\n"
        "      batch_size: 100\n"
        "      parallel_batches: 2\n",
    )
    connections.write_text(text, encoding="utf-8")
    pool = ConnectorPool(load_workspace(root))
    finops, sales = pool.get("finops"), pool.get("sales")
    assert finops.capabilities.max_page_size == 250
    assert finops.capabilities.parallel_batches == 2
    assert sales.capabilities.max_page_size == 5000
    pool.close()
