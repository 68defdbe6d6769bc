"""The scenarios end to end: seed, run every measured job in its own process, collect figures.

:func:`scenario_a` (the engine over SQL, with the floor and dlt) and :func:`scenario_b` (the
protocol, over HTTP) return plain dicts that :mod:`benchmarks.report` turns into
``BENCHMARKS.md``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.measure import Measurement, measure
from benchmarks.peer_dlt import DLT_TABLES, dlt_version
from benchmarks.scenario_engine import copy_stores, new_workspace

__all__ = ["scenario_a", "scenario_b"]

Log = Callable[[str], None]


def _figures(m: Measurement, records: int) -> dict[str, Any]:
    return {
        "wall_seconds": m.wall_seconds,
        "cpu_seconds": m.cpu_seconds,
        "peak_rss_mib": m.peak_rss_mib,
        "records": records,
        "records_per_second": round(records / m.wall_seconds, 1) if m.wall_seconds else None,
    }


def _selected(runs: list[dict[str, Any]]) -> int:
    return sum(t["read"] for r in runs for t in r["tasks"])


def _engine_step(m: Measurement) -> dict[str, Any]:
    runs = m.result["runs"]
    return {**_figures(m, _selected(runs)), "runs": runs}


def _dlt_checksums(database: str) -> dict[str, Any]:
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    from benchmarks.checksum import mapped_checksums

    return mapped_checksums(database, DLT_TABLES, NamingConvention().normalize_identifier)


def scenario_a_size(
    work: Path, contacts: int, *, with_dlt: bool, profile: bool, log: Log
) -> dict[str, Any]:
    """Scenario A at one size: integrator initial / no change / 1% changed, floor, dlt."""
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
    checksums = {"integrator": measure("checksum", data_dir=str(integ)).result}
    log(f"A {contacts}: integrator run with no change")
    out["no_change"] = _engine_step(
        measure("engine_run", workspace=str(workspace), data_dir=str(integ))
    )
    changed = measure("change_contacts", data_dir=str(integ), share=0.01).result["changed"]
    log(f"A {contacts}: integrator run after {changed} contacts changed")
    out["one_percent"] = {
        **_engine_step(measure("engine_run", workspace=str(workspace), data_dir=str(integ))),
        "contacts_changed": changed,
    }

    floor_dir = root / "floor"
    copy_stores(base, floor_dir)
    log(f"A {contacts}: floor")
    floor = measure("floor", data_dir=str(floor_dir))
    out["floor"] = {**_figures(floor, out["initial"]["records"]), "detail": floor.result}
    checksums["floor"] = measure("checksum", data_dir=str(floor_dir)).result
    shutil.rmtree(floor_dir, ignore_errors=True)

    if with_dlt:
        log(f"A {contacts}: dlt")
        dlt_dir = root / "dlt"
        try:
            peer = measure(
                "dlt",
                sales_db=str(base / "sales.db"),
                finops_db=str(base / "finops.db"),
                out_dir=str(dlt_dir),
            )
        except RuntimeError as error:
            # a failed baseline is reported, and the figures measured so far are kept
            out["dlt_error"] = str(error)
            log(f"A {contacts}: {error}")
        else:
            out["dlt"] = {**_figures(peer, out["initial"]["records"]), "detail": peer.result}
            checksums["dlt"] = _dlt_checksums(peer.result["database"])
        shutil.rmtree(dlt_dir, ignore_errors=True)

    reference = checksums["integrator"]
    out["checksums"] = checksums
    out["same_rows"] = {name: sums == reference for name, sums in checksums.items()}

    if profile:
        log(f"A {contacts}: integrator initial run under cProfile")
        profiled = root / "profiled"
        copy_stores(base, profiled)
        profile_ws = new_workspace(root / "ws-profile")
        stats = root / "initial.prof"
        m = measure(
            "engine_run", workspace=str(profile_ws), data_dir=str(profiled), profile=str(stats)
        )
        out["profile_initial"] = {"wall_seconds": m.wall_seconds, **m.result["profile"]}
        m = measure(
            "engine_run",
            workspace=str(profile_ws),
            data_dir=str(profiled),
            profile=str(root / "no-change.prof"),
        )
        out["profile_no_change"] = {"wall_seconds": m.wall_seconds, **m.result["profile"]}
        shutil.rmtree(profiled, ignore_errors=True)
    shutil.rmtree(integ, ignore_errors=True)
    return out


def scenario_a(
    work: Path,
    sizes: list[int],
    *,
    with_dlt: bool,
    profile_size: int | None,
    log: Log,
) -> dict[str, Any]:
    """Scenario A at every size in ``sizes`` (ascending); profiled at ``profile_size``."""
    results: dict[str, Any] = {"dlt_version": dlt_version() if with_dlt else None, "sizes": {}}
    for size in sorted(set(sizes)):
        results["sizes"][str(size)] = scenario_a_size(
            work, size, with_dlt=with_dlt, profile=size == profile_size, log=log
        )
    return results


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
