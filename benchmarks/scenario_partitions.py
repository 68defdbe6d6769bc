"""Scenario P, the cost of a partition, and the 100M-contact plan drawn from it.

A Sales store seeded with N contacts is served by ``integrator sandbox serve``; the three P2C
projects run as ``integrator run`` runs them (Dataverse connector, default settings) on a copy
of it, once read whole (``partition_records: null``, the baseline of the same run) and once
cut into ``createdon`` ranges of ``N / parts`` records. The sandbox counts the requests; the
difference between the two runs, per partition, is what a partition costs: its planning
(``RetrieveTotalRecordCount``, the earliest and latest ``createdon``, the change checkpoint's
read) and its own pages.

The whole read runs at N/2 contacts too, so that the requests and CPU per record are the
marginal ones (fixed costs such as ``$metadata`` left out). From those figures,
:func:`plan_100m` works out a 100M-contact initial load: partitions at
the default ``partition_records`` (5,000,000), requests, and hours for 1 to 20 identities at
what Dataverse allows one identity (6,000 requests per 5 minutes; the throughput measured on
a real environment at its limits, 45 to 500 records/s, `peers.md` §2.1), and the worker CPU
those identities need at the measured CPU per record.

    python -m benchmarks.scenario_partitions --contacts 20000 --parts 4
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.measure import measure
from benchmarks.scenario_engine import copy_stores
from benchmarks.scenario_http import (
    process_cpu_seconds,
    request_counts,
    reset_counts,
    sales_rows,
    served_sandbox,
)

__all__ = ["plan_100m", "render", "scenario_partitions"]

#: Dataverse's service protection limit per identity (requests per 5-minute window)
DATAVERSE_REQUESTS_PER_SECOND = 6000 / 300
#: records/s one identity moved on a real environment at its limits (`peers.md` §2.1)
MEASURED_RECORDS_PER_SECOND = (45.0, 500.0)
PLAN_CONTACTS = 100_000_000
PLAN_PARTITION_RECORDS = 5_000_000
IDENTITIES = (1, 2, 4, 8, 20)


def _run(base: Path, target: Path, partition_records: int | None) -> dict[str, Any]:
    from integrator.config.workspace import init_workspace

    copy_stores(base, target)
    with served_sandbox(target) as (url, pid):
        workspace = target.parent / f"{target.name}-ws"
        shutil.rmtree(workspace, ignore_errors=True)
        init_workspace(workspace, url)
        settings = workspace / "integrator.yaml"
        value = "null" if partition_records is None else str(partition_records)
        settings.write_text(settings.read_text() + f"partition_records: {value}\n")
        reset_counts(url)
        server_cpu = process_cpu_seconds(pid)
        m = measure("cli_run", workspace=str(workspace))
        server_cpu = process_cpu_seconds(pid) - server_cpu
        counts = request_counts(url)
    shutil.rmtree(target, ignore_errors=True)
    runs = m.result["runs"]
    requests = counts.get("requests", {})
    return {
        "partition_records": partition_records,
        "wall_seconds": m.wall_seconds,
        "cpu_seconds": m.cpu_seconds,
        "server_cpu_seconds": round(server_cpu, 2),
        "records": sum(t["read"] for r in runs for t in r["tasks"]),
        "statuses": [r["status"] for r in runs],
        "requests": int(counts.get("total", 0)),
        "sales_requests": sum(requests.get("sales", {}).values()),
    }


def scenario_partitions(work: Path, contacts: int, parts: int, log: Any = print) -> dict[str, Any]:
    """The three projects over HTTP on ``contacts`` contacts, read whole and in ``parts``
    ranges; the figures :func:`render` formats, with the 100M plan."""
    root = work / f"p-{contacts}"
    shutil.rmtree(root, ignore_errors=True)
    base = root / "base"
    log(f"P {contacts}: seeding")
    half_base = root / "half-base"
    measure("seed", data_dir=str(half_base), contacts=contacts // 2)
    measure("seed", data_dir=str(base), contacts=contacts)
    rows = sales_rows(base)
    log(f"P {contacts // 2}: read whole")
    half = _run(half_base, root / "half", None)
    log(f"P {contacts}: read whole")
    whole = _run(base, root / "whole", None)
    log(f"P {contacts}: in {parts} ranges")
    ranged = _run(base, root / "ranged", max(1, math.ceil(contacts / parts)))
    shutil.rmtree(root, ignore_errors=True)
    # the two contact projects' reads are cut; accounts, a tenth as many, fit in one range
    partitions = parts * 2
    figures = {
        "contacts": contacts,
        "accounts": rows["accounts"],
        "parts": parts,
        "partitions": partitions,
        "whole": whole,
        "ranged": ranged,
        "extra_requests_per_partition": round(
            (ranged["requests"] - whole["requests"]) / partitions, 2
        ),
        "extra_seconds_per_partition": round(
            (ranged["wall_seconds"] - whole["wall_seconds"]) / partitions, 3
        ),
        # marginal: what N/2 more contacts cost beyond the fixed costs (metadata, plans)
        "half": half,
        "requests_per_1000_records": round(
            (whole["requests"] - half["requests"])
            * 1000
            / max(whole["records"] - half["records"], 1),
            3,
        ),
        "cpu_ms_per_record": round(
            (whole["cpu_seconds"] - half["cpu_seconds"])
            * 1000
            / max(whole["records"] - half["records"], 1),
            4,
        ),
    }
    figures["plan"] = plan_100m(figures)
    return figures


def plan_100m(figures: dict[str, Any]) -> dict[str, Any]:
    """The 100M-contact initial load from ``figures`` (see the module)."""
    records = PLAN_CONTACTS * 2.1  # accounts a tenth, contacts read by two projects
    partitions = math.ceil(PLAN_CONTACTS / PLAN_PARTITION_RECORDS) * 2 + math.ceil(
        PLAN_CONTACTS / 10 / PLAN_PARTITION_RECORDS
    )
    requests = (
        records / 1000 * figures["requests_per_1000_records"]
        + partitions * figures["extra_requests_per_partition"]
    )
    worker_cpu_hours = records * figures["cpu_ms_per_record"] / 1000 / 3600
    rows = []
    for identities in IDENTITIES:
        usable = min(identities, partitions)
        by_requests = requests / (usable * DATAVERSE_REQUESTS_PER_SECOND) / 3600
        low, high = (records / (usable * rate) / 3600 for rate in MEASURED_RECORDS_PER_SECOND)
        rows.append(
            {
                "identities": identities,
                "hours_request_limit": round(by_requests, 2),
                "hours_at_500_per_s": round(high, 1),
                "hours_at_45_per_s": round(low, 1),
                "worker_cores": round(worker_cpu_hours / max(high, by_requests), 2),
            }
        )
    return {
        "records": int(records),
        "partitions": partitions,
        "requests": int(requests),
        "worker_cpu_hours": round(worker_cpu_hours, 1),
        "by_identities": rows,
    }


def render(figures: dict[str, Any]) -> list[str]:
    """The measured runs and the plan as Markdown."""
    w, r, plan = figures["whole"], figures["ranged"], figures["plan"]
    lines = [
        f"{figures['contacts']:,} contacts and {figures['accounts']:,} accounts, the three "
        f"projects over HTTP, read whole and in {figures['parts']} `createdon` ranges per "
        f"contact task ({figures['partitions']} partitions in all):",
        "",
        "| Read | Wall s | CPU s | Sandbox CPU s | Records | Requests | Requests to Sales | Runs |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    half = figures["half"]
    for label, run in (
        ("whole, half the contacts", half),
        ("whole (baseline)", w),
        ("in ranges", r),
    ):
        lines.append(
            f"| {label} | {run['wall_seconds']:.1f} | {run['cpu_seconds']:.1f} | "
            f"{run['server_cpu_seconds']:.1f} | {run['records']:,} | {run['requests']:,} | "
            f"{run['sales_requests']:,} | {', '.join(run['statuses'])} |"
        )
    lines += [
        "",
        f"Per partition: {figures['extra_requests_per_partition']} more requests and "
        f"{figures['extra_seconds_per_partition']} s more wall time than the whole read "
        f"(ratio of walls {r['wall_seconds'] / w['wall_seconds']:.2f}). Beyond the fixed "
        f"costs (the whole read at half the contacts against the whole read): "
        f"{figures['requests_per_1000_records']} requests per 1000 records selected, "
        f"{figures['cpu_ms_per_record']} ms of engine CPU per record.",
        "",
        f"**The 100M-contact initial load** ({plan['records']:,} records read by the three "
        f"projects, {plan['partitions']} partitions at `partition_records: 5000000`, "
        f"{plan['requests']:,} requests, {plan['worker_cpu_hours']} worker CPU hours):",
        "",
        "| Identities | Hours at the request limit | Hours at 500 records/s "
        "| Hours at 45 records/s | Worker cores busy |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in plan["by_identities"]:
        lines.append(
            f"| {row['identities']} | {row['hours_request_limit']} | {row['hours_at_500_per_s']} "
            f"| {row['hours_at_45_per_s']} | {row['worker_cores']} |"
        )
    return lines


def main() -> int:
    """``python -m benchmarks.scenario_partitions``: measure, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--parts", type=int, default=4)
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-p")
    parser.add_argument("--results", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    figures = scenario_partitions(
        args.work_dir,
        args.contacts,
        args.parts,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    if args.results is not None:
        args.results.write_text(json.dumps(figures, indent=1) + "\n")
    print("\n".join(render(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
