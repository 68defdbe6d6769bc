"""Load the golden Sales dataset into a sandbox store, and dump CDS and F&O rows to compare."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from integrator.sandbox.stores import SandboxStore

HERE = Path(__file__).parent
SYSTEM_COLUMNS = {"createdon", "modifiedon", "versionnumber"}
#: tables compared after a run, per service, ordered by their keys
OUTPUT_TABLES = {
    "cds": {"accounts": ("AccountId",), "contacts": ("ContactId",)},
    "finops": {
        "CustomersV2": ("CustomerAccount",),
        "CDSContactPersons": ("ContactPersonPartyNumber",),
    },
}


def sales_dataset() -> dict[str, list[dict[str, Any]]]:
    """The golden dataset: table name → rows."""
    loaded: dict[str, list[dict[str, Any]]] = YAML(typ="safe").load(HERE / "sales.yaml")
    return loaded


def load_sales(data_dir: Path) -> None:
    """Insert the golden dataset into the Sales store of the sandbox in ``data_dir``."""
    store = SandboxStore.open(data_dir)
    conn = store.connect("sales")
    try:
        with conn:
            for table in ("accounts", "contacts", "quotes", "salesorders", "invoices"):
                for row in sales_dataset().get(table, []):
                    columns = ", ".join(row)
                    marks = ", ".join("?" for _ in row)
                    conn.execute(
                        f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                        list(row.values()),
                    )
    finally:
        conn.close()


def dump_outputs(data_dir: Path) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every CDS and F&O row the golden tables hold, without system-maintained columns."""
    store = SandboxStore.open(data_dir)
    result: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for service, tables in OUTPUT_TABLES.items():
        conn = store.connect(service)
        try:
            for table, order in tables.items():
                cursor = conn.execute(f"SELECT * FROM {table} ORDER BY {', '.join(order)}")
                names = [d[0] for d in cursor.description]
                result.setdefault(service, {})[table] = [
                    {n: v for n, v in zip(names, row, strict=True) if n not in SYSTEM_COLUMNS}
                    for row in cursor
                ]
        finally:
            conn.close()
    return result


def check_golden(name: str, actual: Any) -> None:
    """Compare ``actual`` with ``golden/expected/<name>.json``; ``INTEGRATOR_UPDATE_GOLDEN=1``
    rewrites the file instead (review the diff before committing it)."""
    path = HERE / "expected" / f"{name}.json"
    text = json.dumps(actual, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("INTEGRATOR_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert json.loads(text) == expected, f"{name} differs from {path}"
