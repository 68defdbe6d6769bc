"""The peer baseline: dlt loading the same rows with the same mapping, merged on the same keys.

Per template, as integrator runs them (Accounts first): one dlt resource reads the Sales rows
in pages and maps each through :mod:`benchmarks.p2c_python` (the template's filter, both legs,
the rules); two transformers of it yield the CDS rows and the F&O rows, each loaded with
``write_disposition="merge"`` and the template's keys as ``primary_key`` into a SQLite
database through dlt's ``sqlalchemy`` destination, the same kind of storage the stores use.
The destination tables carry no store triggers (dlt creates its own tables); the refusals the
triggers would make are the mapping's filters instead. Telemetry is off.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.p2c_python import TEMPLATES, Accepted, Mapped, read_sales, reference

__all__ = ["DATASET", "dlt_job", "dlt_tables", "dlt_version", "run_dlt"]

DATASET = "p2c"

#: output table of the stores -> dlt table
DLT_TABLES = {
    "cds.accounts": "cds_accounts",
    "cds.contacts": "cds_contacts",
    "finops.CustomersV2": "fo_customers",
    "finops.CDSContactPersons": "fo_contact_persons",
}


def dlt_version() -> str | None:
    """The installed dlt version, or ``None`` when dlt is not installed."""
    try:
        import dlt
    except ImportError:
        return None
    return str(dlt.__version__)


def _template_source(name: str, sales_db: Path, accepted: Accepted) -> Any:
    import dlt

    query, mapper, (cds_table, cds_key), (fo_table, fo_key) = TEMPLATES[name]

    @dlt.resource(name=f"{name}_sales", selected=False)
    def sales() -> Iterator[list[Mapped]]:
        for page in read_sales(sales_db, query):
            mapped = [mapper(row, accepted) for row in page]
            yield [m for m in mapped if m is not None and m.cds is not None]

    @dlt.transformer(
        data_from=sales,
        name=f"{name}_cds",
        table_name=cds_table,
        primary_key=list(cds_key),
        write_disposition="merge",
    )
    def cds(items: list[Mapped]) -> Iterator[list[dict[str, Any]]]:
        yield [m.cds for m in items if m.cds is not None]

    @dlt.transformer(
        data_from=sales,
        name=f"{name}_finops",
        table_name=fo_table,
        primary_key=list(fo_key),
        write_disposition="merge",
    )
    def finops(items: list[Mapped]) -> Iterator[list[dict[str, Any]]]:
        yield [m.finops for m in items if m.finops is not None]

    @dlt.source(name=f"p2c_{name.lower()}")
    def template() -> Any:
        return sales, cds, finops

    return template()


def run_dlt(sales_db: Path | str, finops_db: Path | str, out_dir: Path | str) -> dict[str, Any]:
    """Load the three templates' rows into ``out_dir/dlt.db``; seconds and rows per template."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    # SQLite takes one writer at a time: dlt's parallel load jobs (20 by default) would only
    # wait on each other's locks, and give up after five "database is locked"
    os.environ.setdefault("LOAD__WORKERS", "1")
    import dlt

    out = Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    pipeline = dlt.pipeline(
        pipeline_name="integrator_bench",
        pipelines_dir=str(out / "pipelines"),
        destination=dlt.destinations.sqlalchemy(
            credentials=f"sqlite:///{out / 'dlt.db'}?timeout=60"
        ),
        dataset_name=DATASET,
    )
    accepted = reference(finops_db)
    report: dict[str, Any] = {"templates": {}}
    started = time.perf_counter()
    for name in TEMPLATES:
        began = time.perf_counter()
        pipeline.run(_template_source(name, Path(sales_db), accepted))
        seconds = round(time.perf_counter() - began, 3)
        report["templates"][name] = {"seconds": seconds}
        # on stderr too: a run stopped at its time limit still shows what it got through
        print(f"dlt: template {name} loaded in {seconds} s", file=sys.stderr, flush=True)
    report["seconds"] = round(time.perf_counter() - started, 3)
    report["database"] = str(dataset_file(out))
    return report


def dataset_file(out_dir: Path) -> Path:
    """The SQLite file dlt put the dataset's tables in (an attached database per dataset)."""
    candidates = sorted(p for p in out_dir.glob("dlt*.db") if p.name != "dlt.db")
    return candidates[0] if candidates else out_dir / "dlt.db"


def dlt_tables() -> dict[str, str]:
    """Output table of the stores -> dlt table name."""
    return dict(DLT_TABLES)


def dlt_job(sales_db: str, finops_db: str, out_dir: str) -> dict[str, Any]:
    """Job: :func:`run_dlt`."""
    return run_dlt(sales_db, finops_db, out_dir)
