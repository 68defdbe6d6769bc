"""``BENCHMARKS.md`` from the scenarios' figures: machine, versions, figures, ratios, targets."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["environment", "render", "targets"]

GIB_MIB = 1024
#: peak memory may grow this much from the smaller size to the larger and count as flat
FLAT_GROWTH = 1.25


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment() -> dict[str, Any]:
    """The machine and the software versions."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "commit": _commit(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "packages": {
            p: _version(p)
            for p in ("integrator", "sqlalchemy", "httpx", "uvicorn", "pycountry", "dlt")
        },
    }


def _commit() -> str:
    """The git commit of the code measured, marked ``+changes`` when ``src`` differs from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+changes" if changed else head


def _n(value: Any, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    if not a or not b:
        return None
    return round(a / b, 2)


def _bound(figures: dict[str, Any] | None) -> str:
    """``≥ `` for figures of a step stopped at its time limit (lower bounds), else nothing."""
    return "≥ " if figures and figures.get("timed_out") else ""


def _wall(size: dict[str, Any], key: str) -> float | None:
    figures = size.get(key)
    return None if figures is None else figures.get("wall_seconds")


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 6: what was measured, the limit, met or not (``None``: unknown).

    A step stopped at its time limit gives a lower bound, which still decides a target it
    already misses (a no-change run) or meets (dlt being slower).
    """
    out: list[dict[str, Any]] = []
    a = results.get("scenario_a")
    if a and a["sizes"]:
        sizes = sorted(int(s) for s in a["sizes"])
        main = a["sizes"][str(sizes[-1])]
        small = a["sizes"][str(sizes[0])]
        initial = main["initial"]["wall_seconds"]
        if "floor" in main:
            ratio = _ratio(initial, main["floor"]["wall_seconds"])
            out.append(_target("integrator / floor (initial run)", ratio, 2.0))
        out.extend(_dlt_target(a, sizes))
        peak = main["initial"]["peak_rss_mib"]
        out.append(_target("peak memory, initial run (MiB)", peak, GIB_MIB))
        if len(sizes) > 1:
            growth = _ratio(peak, small["initial"]["peak_rss_mib"])
            name = f"peak memory growth {sizes[0]:,} → {sizes[-1]:,} contacts (flat)"
            out.append(_target(name, growth, FLAT_GROWTH))
        if "no_change" in main:
            share = _ratio(main["no_change"]["wall_seconds"], initial)
            target = _target("no-change run / initial run", share, 0.05)
            if main["no_change"].get("timed_out"):
                target["bound"] = "≥ "
                if target["met"]:
                    target["met"] = None
            out.append(target)
    b = results.get("scenario_b")
    if b:
        economy = b["clean"]["economy"]
        read = economy["requests_per_1000_read"]
        written = economy["requests_per_1000_written"]
        out.append(_target("HTTP requests per 1000 records read", read, 0.25))
        out.append(_target("HTTP requests per 1000 records written", written, 1.1))
    return out


def _dlt_target(a: dict[str, Any], sizes: list[int]) -> list[dict[str, Any]]:
    """dlt / integrator at the largest size where dlt finished (a lower bound where it was
    stopped decides the target only when it already reaches it)."""
    stopped: list[str] = []
    for size in reversed(sizes):
        figures = a["sizes"][str(size)]
        if "dlt" not in figures:
            continue
        speed = _ratio(figures["dlt"]["wall_seconds"], figures["initial"]["wall_seconds"])
        if figures["dlt"].get("timed_out"):
            stopped.append(f"at {size:,} dlt was stopped at ≥ {speed}")
            if speed is not None and speed >= 3.0:
                target = _target(f"dlt / integrator (initial run, {size:,})", speed, 3.0, True)
                return [{**target, "bound": "≥ "}]
            continue
        extra = f"; {', '.join(stopped)}" if stopped else ""
        return [_target(f"dlt / integrator (initial run, {size:,}{extra})", speed, 3.0, True)]
    return []


def _target(name: str, value: float | None, limit: float, at_least: bool = False) -> dict[str, Any]:
    met = None if value is None else (value >= limit if at_least else value <= limit)
    sign = "≥" if at_least else "≤"
    return {"target": name, "value": value, "limit": f"{sign} {limit:g}", "met": met}


def _engine_table(size: dict[str, Any]) -> list[str]:
    rows = [
        "| Run | Wall s | CPU s | Records | Records/s | Peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    changed = size.get("one_percent", {}).get("contacts_changed")
    names = [
        ("integrator, initial run", "initial"),
        ("floor (hand-written SQL), initial", "floor"),
        ("dlt, initial", "dlt"),
        ("integrator, no change", "no_change"),
        (f"integrator, {_n(changed)} contacts changed (1%)", "one_percent"),
        ("integrator, initial run, history on PostgreSQL", "initial_pg"),
        ("integrator, no change, history on PostgreSQL", "no_change_pg"),
    ]
    for label, key in names:
        f = size.get(key)
        if f is None:
            continue
        mark = _bound(f)
        note = " (stopped at the time limit)" if mark else ""
        records, rate = (None, None) if mark else (f["records"], f["records_per_second"])
        rows.append(
            f"| {label}{note} | {mark}{_n(f['wall_seconds'], 2)} | {mark}"
            f"{_n(f['cpu_seconds'], 2)} | {_n(records)} | {_n(rate)} | "
            f"{mark}{_n(f['peak_rss_mib'])} |"
        )
    return rows


def _counts_table(runs: list[dict[str, Any]]) -> list[str]:
    rows = ["| Project | Status | Read | Inserted | Updated | Unchanged | Errors |",
            "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for run in runs:
        for t in run["tasks"]:
            rows.append(
                f"| {run['project']} | {run['status']} | {_n(t['read'])} | {_n(t['inserted'])} "
                f"| {_n(t['updated'])} | {_n(t['unchanged'])} | {_n(t['errors'])} |"
            )
    return rows


def _scenario_a(a: dict[str, Any]) -> list[str]:
    lines = ["## Scenario A: the engine over SQL, with the floor and dlt", ""]
    lines += [
        "Sales store seeded with `seed_sales` (N contacts, N/10 accounts, random seed 0); the "
        "three P2C projects run through `sql_connectors` straight to the sandbox's store files "
        "(CDS and F&O keep their rules as triggers). Every run is a fresh process; peak RSS is "
        "its `ru_maxrss` (from `os.wait4`). *Records* are the source records the templates "
        "selected (the sum of the tasks' `read` counts); each goes through two legs (CDS, then "
        "F&O). The floor and dlt are measured on the same input and must produce the same CDS "
        "and F&O rows as integrator (checksums below).",
        "",
    ]
    for size_key in sorted(a["sizes"], key=int):
        size = a["sizes"][size_key]
        seed = size["seed"]
        lines += [
            f"### {int(size_key):,} contacts",
            "",
            f"Seeded {seed['accounts']:,} accounts, {seed['contacts']:,} contacts, "
            f"{seed['quotes']:,} quotes, {seed['salesorders']:,} orders, "
            f"{seed['invoices']:,} invoices in {seed['wall_seconds']:.1f} s.",
            "",
            *_engine_table(size),
            "",
        ]
        initial = size["initial"]["wall_seconds"]
        initial_cpu = size["initial"]["cpu_seconds"]
        ratios = []
        if "floor" in size:
            ratios.append(
                f"- integrator / floor: **{_ratio(initial, _wall(size, 'floor'))}** "
                f"(CPU: {_ratio(initial_cpu, size['floor']['cpu_seconds'])})"
            )
        if "dlt" in size:
            mark = _bound(size["dlt"])
            ratios.append(
                f"- dlt / integrator: **{mark}{_ratio(_wall(size, 'dlt'), initial)}** "
                f"(CPU: {mark}{_ratio(size['dlt']['cpu_seconds'], initial_cpu)})"
            )
        for key, label in (("no_change", "no-change"), ("one_percent", "1%-changed")):
            if key in size:
                mark = _bound(size[key])
                ratios.append(
                    f"- {label} run / initial run: **{mark}{_ratio(_wall(size, key), initial)}**"
                )
        if "initial_pg" in size:
            ratios.append(
                "- initial run with the history on PostgreSQL / on SQLite: "
                f"**{_ratio(_wall(size, 'initial_pg'), initial)}** (CPU of integrator's "
                f"process: {_ratio(size['initial_pg']['cpu_seconds'], initial_cpu)}; the "
                "server's own CPU is not in it)"
            )
        if "no_change_pg" in size and "initial_pg" in size:
            mark = _bound(size["no_change_pg"])
            ratios.append(
                "- no-change run / initial run, history on PostgreSQL: "
                f"**{mark}{_ratio(_wall(size, 'no_change_pg'), _wall(size, 'initial_pg'))}**"
            )
        lines += ["Ratios (wall time):", "", *ratios, ""]
        if "dlt_error" in size:
            lines += [f"**dlt failed at this size:** {size['dlt_error']} (see the run's log).", ""]
        if size.get("initial", {}).get("note"):
            lines += [size["initial"]["note"], ""]
        same = ", ".join(
            f"{name}: {'same rows' if ok else '**DIFFERENT ROWS**'}"
            for name, ok in size.get("same_rows", {}).items()
            if name != "integrator"
        )
        lines += [f"Output check against integrator's CDS and F&O rows: {same}.", ""]
        lines += ["<details><summary>Checksums (rows, hash) per output table</summary>", ""]
        lines += ["| Table | " + " | ".join(size["checksums"]) + " |",
                  "|---|" + "---|" * len(size["checksums"])]  # fmt: skip
        for table in size["checksums"]["integrator"]:
            cells = [
                f"{c[table]['rows']:,} / `{c[table]['hash']}`" for c in size["checksums"].values()
            ]
            lines.append(f"| {table} | " + " | ".join(cells) + " |")
        lines += ["", "</details>", ""]
        for key, label in (
            ("initial", "initial run"),
            ("no_change", "no-change run"),
            ("one_percent", "1%-changed run"),
        ):
            if not size.get(key, {}).get("runs"):
                continue
            lines += [f"<details><summary>Task counts, {label}</summary>", ""]
            lines += [*_counts_table(size[key]["runs"]), "", "</details>", ""]
        for key, label in (
            ("profile_initial", "initial run"),
            ("profile_no_change", "no-change run"),
        ):
            if key in size:
                p = size[key]
                lines += [
                    f"<details><summary>cProfile of the {label} at {int(size_key):,} contacts "
                    f"({p['wall_seconds']:.1f} s under the profiler)</summary>",
                    "",
                    "By cumulative time:",
                    "",
                    "```",
                    p["cumulative"],
                    "```",
                    "",
                    "By own time:",
                    "",
                    "```",
                    p["tottime"],
                    "```",
                    "",
                    "</details>",
                    "",
                ]
    return lines


def _economy_rows(label: str, run: dict[str, Any]) -> str:
    e = run["economy"]
    return (
        f"| {label} | {_n(run['wall_seconds'], 2)} | {_n(run['records_per_second'])} | "
        f"{_n(e['total_requests'])} | {_n(e['read_requests'])} / "
        f"{_n(e['records_returned_by_sales'])} "
        f"| **{e['requests_per_1000_read']}** | {_n(e['write_requests'])} / "
        f"{_n(e['records_written'])} | **{e['requests_per_1000_written']}** | "
        f"{_n(e['throttled_429'])} | {_n(run['peak_rss_mib'])} |"
    )


def _scenario_b(b: dict[str, Any]) -> list[str]:
    lines = [
        "## Scenario B: the protocol, over HTTP",
        "",
        f"{b['contacts']:,} contacts ({b['seed']['accounts']:,} accounts) in a sandbox served by "
        "`integrator sandbox serve` in its own process; a workspace from `integrator init WS "
        "--sandbox URL`; the three projects run as `integrator run` runs them (Dataverse "
        "connector for Sales and CDS, F&O connector for F&O, default settings), in a measured "
        "process. Requests are counted by the sandbox. *Read*: every request to Sales and every "
        "GET to CDS and F&O, over the records Sales returned (every account once, every "
        "contact once per contact template: change-tracking reads carry no filter). "
        "*Written*: every non-GET request to CDS and F&O over the write operations their "
        "`$batch`es and bulk messages carried. The throttled run answers 5% of requests with 429 "
        "(`Retry-After: 0`).",
        "",
        "| Run | Wall s | Records/s | Requests | Reads / records read | per 1000 read | "
        "Writes / records written | per 1000 written | 429s | Peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        _economy_rows("no faults", b["clean"]),
        _economy_rows("5% 429s", b["throttled"]),
        "",
        f"Sandbox server CPU: {b['clean']['server_cpu_seconds']} s (no faults), "
        f"{b['throttled']['server_cpu_seconds']} s (5% 429s). Client CPU: "
        f"{b['clean']['cpu_seconds']} s, {b['throttled']['cpu_seconds']} s.",
        "",
    ]
    for key, label in (("clean", "no faults"), ("throttled", "5% 429s")):
        lines += [f"<details><summary>Task counts and requests, {label}</summary>", ""]
        lines += [*_counts_table(b[key]["runs"]), ""]
        e = b[key]["economy"]
        lines += [
            f"Requests by service and method: `{e['by_service']}`; operations in `$batch`: "
            f"`{e['batch_operations']}`; statuses: `{e['statuses']}`.",
            "",
            "</details>",
            "",
        ]
    for key, label in (("connector_steps", "no faults"), ("connector_steps_throttled", "5% 429s")):
        if key not in b:
            continue
        steps = b[key]
        lines += [
            f"Connector steps (`benchmarks/scenario_protocol.py`, {steps['contacts']:,} contacts, "
            f"{label}):",
            "",
            "| Step | Records | Requests | per 1000 | Records/s | 429s |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, step in steps.items():
            if isinstance(step, dict) and "requests" in step:
                lines.append(
                    f"| {name} | {_n(step['records'])} | {_n(step['requests'])} | "
                    f"{step['requests_per_1000']} | {_n(step['records_per_second'])} | "
                    f"{_n(step['throttled'])} |"
                )
        lines.append("")
        lines += bulk_table(steps)
    return lines


def bulk_table(steps: dict[str, Any]) -> list[str]:
    """UpsertMultiple beside ``$batch`` (``scenario_protocol``'s ``cds_*`` steps), if measured."""
    if "cds_new_bulk" not in steps:
        return []
    lines = [
        f"UpsertMultiple beside `$batch` ({steps['contacts']:,} CDS contacts, same records, "
        "same run, 5000 records per upsert call as the engine passes them; new: an initial load "
        "(the first call reads, finds nothing and upserts, later calls create without reading: "
        "`CreateMultiple` in bulk mode); changed: every record's JobTitle, read then "
        "`UpsertMultiple`; bulk mode also asks the `sdkmessagefilters` catalogue once per "
        "connector):",
        "",
        "| Write | Mode | Requests | per 1000 written | Records/s | Outcomes |",
        "|---|---|---:|---:|---:|---|",
    ]
    for state in ("new", "changed"):
        for label, mode in (("batch", "`$batch`"), ("bulk", "bulk messages")):
            step = steps[f"cds_{state}_{label}"]
            lines.append(
                f"| {state} | {mode} | {_n(step['requests'])} | {step['requests_per_1000']} | "
                f"{_n(step['records_per_second'])} | {step.get('outcomes', {})} |"
            )
    lines.append("")
    return lines


def render(results: dict[str, Any], analysis: str | None) -> str:
    """The whole ``BENCHMARKS.md``."""
    env = results["environment"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `python -m benchmarks` (`./dev bench`); do not edit by hand. "
        "Benchmarks are not tests: a small-size run of every scenario is "
        "`tests/benchmarks/test_benchmarks_small.py`.",
        "",
        f"- Command: `{results['command']}`",
        f"- Started {results['started']}, took {results['seconds'] / 60:.1f} min; load average "
        f"at start {results['load_start']}, at end {results['load_end']} (the machine is "
        "shared: wall times include waiting for the CPU; CPU seconds do not).",
        f"- Code: commit {env.get('commit', 'unknown')}.",
        f"- Machine: {env['platform']}; {env['cpu']}, {env['cores']} cores; {env['memory']}.",
        f"- Python {env['python']}, SQLite {env['sqlite']}; "
        + ", ".join(f"{p} {v}" for p, v in env["packages"].items())
        + ".",
        "",
    ]
    if results.get("note"):
        lines += [f"**Note:** {results['note']}", ""]
    rows = targets(results)
    lines += [
        "## Targets (issue 6)",
        "",
        "| Target | Measured | Limit | Met |",
        "|---|---:|---|---|",
    ]
    for t in rows:
        met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
        value = f"{t.get('bound', '')}{_n(t['value'], 2)}"
        lines.append(f"| {t['target']} | {value} | {t['limit']} | {met} |")
    lines.append("")
    if results.get("scenario_a"):
        lines += _scenario_a(results["scenario_a"])
    if results.get("scenario_b"):
        lines += _scenario_b(results["scenario_b"])
    if analysis:
        lines += [analysis.strip(), ""]
    return "\n".join(lines)
