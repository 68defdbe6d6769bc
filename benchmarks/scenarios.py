"""The scenarios end to end: seed, run every measured job in its own process, collect figures.

:func:`scenario_a_size` (the engine over SQL, with the floor and dlt) and :func:`scenario_b` (the
protocol, over HTTP) return plain dicts that :mod:`benchmarks.report` turns into
``BENCHMARKS.md``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.measure import Measurement, measure
from benchmarks.peer_dlt import DLT_TABLES
from benchmarks.scenario_engine import (
    copy_stores,
    drop_postgres_schema,
    new_workspace,
    postgres_schema_url,
)

__all__ = ["continue_scenario_a", "profile_scenario_a", "scenario_a_size", "scenario_b"]

Log = Callable[[str], None]


def _figures(m: Measurement, records: int | None) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "wall_seconds": m.wall_seconds,
        "cpu_seconds": m.cpu_seconds,
        "peak_rss_mib": m.peak_rss_mib,
        "records": records,
        "records_per_second": round(records / m.wall_seconds, 1)
        if records and m.wall_seconds
        else None,
    }
    if m.timed_out:
        # stopped at its time limit: the figures are lower bounds
        figures["timed_out"] = True
    return figures


def _selected(runs: list[dict[str, Any]]) -> int:
    return sum(t["read"] for r in runs for t in r["tasks"])


def _engine_step(m: Measurement) -> dict[str, Any]:
    if m.timed_out:
        return {**_figures(m, None), "runs": []}
    runs = m.result["runs"]
    return {**_figures(m, _selected(runs)), "runs": runs}


def _dlt_checksums(database: str) -> dict[str, Any]:
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    from benchmarks.checksum import mapped_checksums

    return mapped_checksums(database, DLT_TABLES, NamingConvention().normalize_identifier)


def _nothing(_: dict[str, Any]) -> None:
    return None


def scenario_a_size(
    work: Path,
    contacts: int,
    *,
    with_dlt: bool,
    profile: bool,
    log: Log,
    step_timeout: float | None = None,
    save: Callable[[dict[str, Any]], None] = _nothing,
    postgres_url: str | None = None,
) -> dict[str, Any]:
    """Scenario A at one size: integrator's initial run, the floor, dlt, then integrator's
    no-change and 1%-changed runs (and cProfile runs with ``profile``). With ``postgres_url``,
    also an initial and a no-change run keeping the history on that PostgreSQL server.

    ``step_timeout`` (seconds) stops any step but the seeding and the initial run that takes
    longer; it is reported as such, its figures lower bounds. ``save`` gets the figures after
    each step, so an interrupted run keeps what it measured.
    """
    root = work / f"a-{contacts}"
    shutil.rmtree(root, ignore_errors=True)
    base = root / "base"
    log(f"A {contacts}: seeding")
    seed = measure("seed", data_dir=str(base), contacts=contacts)
    out: dict[str, Any] = {"contacts": contacts, "seed": {**seed.result, **_figures(seed, 0)}}
    integ = root / "integrator"
    copy_stores(base, integ)
    workspace = new_workspace(root / "ws")
    log(f"A {contacts}: integrator initial run")
    initial = measure("engine_run", workspace=str(workspace), data_dir=str(integ))
    out["initial"] = _engine_step(initial)
    out["checksums"] = {"integrator": measure("checksum", data_dir=str(integ)).result}
    save(out)
    continue_scenario_a(root, out, with_dlt=with_dlt, log=log, step_timeout=step_timeout, save=save)
    if postgres_url is not None:
        postgres_history_runs(root, out, postgres_url, log=log, step_timeout=step_timeout)
        save(out)
    if profile:
        profile_scenario_a(root, out, log=log)
        save(out)
    return out


def continue_scenario_a(
    root: Path,
    out: dict[str, Any],
    *,
    with_dlt: bool,
    log: Log,
    step_timeout: float | None = None,
    save: Callable[[dict[str, Any]], None] = _nothing,
) -> None:
    """The steps after integrator's initial run, on ``root``'s stores (``base`` seeded,
    ``integrator`` synced once through the workspace ``ws``), added to ``out``."""
    contacts = out["contacts"]
    base, integ, workspace = root / "base", root / "integrator", root / "ws"
    records = out["initial"]["records"]
    checksums = out["checksums"]

    floor_dir = root / "floor"
    copy_stores(base, floor_dir)
    log(f"A {contacts}: floor")
    floor = measure("floor", data_dir=str(floor_dir))
    out["floor"] = {**_figures(floor, records), "detail": floor.result}
    checksums["floor"] = measure("checksum", data_dir=str(floor_dir)).result
    shutil.rmtree(floor_dir, ignore_errors=True)
    _same_rows(out)
    save(out)

    if with_dlt:
        log(f"A {contacts}: dlt")
        dlt_dir = root / "dlt"
        try:
            peer = measure(
                "dlt",
                timeout=step_timeout,
                sales_db=str(base / "sales.db"),
                finops_db=str(base / "finops.db"),
                out_dir=str(dlt_dir),
            )
        except RuntimeError as error:
            # a failed baseline is reported, and the figures measured so far are kept
            out["dlt_error"] = str(error)
            log(f"A {contacts}: {error}")
        else:
            out["dlt"] = {**_figures(peer, records), "detail": peer.result}
            if not peer.timed_out:
                checksums["dlt"] = _dlt_checksums(peer.result["database"])
        shutil.rmtree(dlt_dir, ignore_errors=True)
        _same_rows(out)
        save(out)

    log(f"A {contacts}: integrator run with no change")
    out["no_change"] = _engine_step(
        measure("engine_run", timeout=step_timeout, workspace=str(workspace), data_dir=str(integ))
    )
    save(out)
    changed = measure("change_contacts", data_dir=str(integ), share=0.01).result["changed"]
    log(f"A {contacts}: integrator run after {changed} contacts changed")
    step = measure(
        "engine_run", timeout=step_timeout, workspace=str(workspace), data_dir=str(integ)
    )
    out["one_percent"] = {**_engine_step(step), "contacts_changed": changed}
    save(out)
    shutil.rmtree(integ, ignore_errors=True)


def postgres_history_runs(
    root: Path,
    out: dict[str, Any],
    postgres_url: str,
    *,
    log: Log,
    step_timeout: float | None = None,
) -> None:
    """integrator's initial and no-change runs on a fresh copy of ``root/base``, the history
    in a schema of its own on the PostgreSQL server at ``postgres_url`` (dropped after); the
    rows written are checked against the SQLite-history run's (``same_rows``)."""
    contacts = out["contacts"]
    schema = f"integrator_bench_{contacts}"
    url = postgres_schema_url(postgres_url, schema)
    data = root / "pg-history"
    copy_stores(root / "base", data)
    workspace = new_workspace(root / "ws-pg", history_url=url)
    try:
        log(f"A {contacts}: integrator initial run, history on PostgreSQL")
        out["initial_pg"] = _engine_step(
            measure("engine_run", workspace=str(workspace), data_dir=str(data))
        )
        out["checksums"]["integrator_pg_history"] = measure("checksum", data_dir=str(data)).result
        _same_rows(out)
        log(f"A {contacts}: integrator run with no change, history on PostgreSQL")
        out["no_change_pg"] = _engine_step(
            measure(
                "engine_run", timeout=step_timeout, workspace=str(workspace), data_dir=str(data)
            )
        )
    finally:
        drop_postgres_schema(postgres_url, schema)
        shutil.rmtree(data, ignore_errors=True)


def _same_rows(out: dict[str, Any]) -> None:
    reference = out["checksums"]["integrator"]
    out["same_rows"] = {name: sums == reference for name, sums in out["checksums"].items()}


def profile_scenario_a(root: Path, out: dict[str, Any], *, log: Log) -> None:
    """cProfile of integrator's initial and no-change runs on a fresh copy of ``root/base``."""
    contacts = out["contacts"]
    log(f"A {contacts}: integrator initial and no-change runs under cProfile")
    profiled = root / "profiled"
    copy_stores(root / "base", profiled)
    workspace = new_workspace(root / "ws-profile")
    for key, name in (("profile_initial", "initial"), ("profile_no_change", "no-change")):
        m = measure(
            "engine_run",
            workspace=str(workspace),
            data_dir=str(profiled),
            profile=str(root / f"{name}.prof"),
        )
        out[key] = {"wall_seconds": m.wall_seconds, **m.result["profile"]}
    shutil.rmtree(profiled, ignore_errors=True)


def _http_run(base: Path, target: Path, rate_429: float, log: Log) -> dict[str, Any]:
    from benchmarks.scenario_http import (
        process_cpu_seconds,
        request_counts,
        request_economy,
        reset_counts,
        sales_rows,
        served_sandbox,
        set_faults,
    )
    from integrator.config.workspace import init_workspace

    copy_stores(base, target)
    rows = sales_rows(target)
    with served_sandbox(target) as (url, pid):
        workspace = target.parent / f"{target.name}-ws"
        shutil.rmtree(workspace, ignore_errors=True)
        init_workspace(workspace, url)
        if rate_429:
            set_faults(url, rate_429=rate_429, retry_after=0, seed=1)
        reset_counts(url)
        server_cpu = process_cpu_seconds(pid)
        log(f"B: integrator run over HTTP, 429 rate {rate_429}")
        m = measure("cli_run", workspace=str(workspace))
        server_cpu = process_cpu_seconds(pid) - server_cpu
        counts = request_counts(url)
    shutil.rmtree(target, ignore_errors=True)
    runs = m.result["runs"]
    return {
        **_figures(m, _selected(runs)),
        "server_cpu_seconds": round(server_cpu, 2),
        "rate_429": rate_429,
        "runs": runs,
        "economy": request_economy(counts, runs, rows),
    }


def scenario_b(work: Path, contacts: int, *, connector_steps: int, log: Log) -> dict[str, Any]:
    """Scenario B: the engine over HTTP at ``contacts``, without and with 5% 429s; with
    ``connector_steps`` (a size) also ``benchmarks.scenario_protocol``'s step-by-step figures."""
    root = work / f"b-{contacts}"
    shutil.rmtree(root, ignore_errors=True)
    base = root / "base"
    log(f"B {contacts}: seeding")
    seed = measure("seed", data_dir=str(base), contacts=contacts)
    out: dict[str, Any] = {"contacts": contacts, "seed": seed.result}
    out["clean"] = _http_run(base, root / "clean", 0.0, log)
    out["throttled"] = _http_run(base, root / "throttled", 0.05, log)
    if connector_steps:
        log(f"B {connector_steps}: connector steps (benchmarks.scenario_protocol)")
        for name, rate in (("connector_steps", 0.0), ("connector_steps_throttled", 0.05)):
            m = measure("protocol", contacts=connector_steps, throttle_rate=rate)
            out[name] = {"wall_seconds": m.wall_seconds, **m.result}
    shutil.rmtree(root, ignore_errors=True)
    return out
