"""``python -m benchmarks``: run every scenario and write ``BENCHMARKS.md``.

Examples::

    python -m benchmarks                          # full size: 1,000,000 and 100,000 contacts
    python -m benchmarks --quick                  # a few minutes: 20,000 / 2,000 / 5,000
    python -m benchmarks --contacts 200000 --scenarios a
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.peer_dlt import dlt_version
from benchmarks.report import environment, render
from benchmarks.scenarios import scenario_a_size, scenario_b

ROOT = Path(__file__).resolve().parent.parent
ANALYSIS = Path(__file__).resolve().parent / "analysis.md"


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run integrator's benchmarks (scenario A: engine over SQL with the floor "
        "and dlt; scenario B: protocol over HTTP) and write BENCHMARKS.md.",
    )
    parser.add_argument("--contacts", type=int, default=1_000_000, help="Scenario A size.")
    parser.add_argument(
        "--memory-contacts",
        type=int,
        default=100_000,
        help="The smaller Scenario A size (peak memory must stay flat from it to --contacts); "
        "it is also the size profiled with cProfile.",
    )
    parser.add_argument("--protocol-contacts", type=int, default=100_000, help="Scenario B size.")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="Small sizes (20,000 / 2,000 / 5,000 contacts) to check everything runs.",
    )
    parser.add_argument("--scenarios", default="a,b", help="Which scenarios: a, b or a,b.")
    parser.add_argument("--no-dlt", action="store_true", help="Leave out the dlt baseline.")
    parser.add_argument(
        "--no-connector-steps",
        action="store_true",
        help="Leave out benchmarks/scenario_protocol.py's step-by-step figures.",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "integrator-bench",
        help="Scratch directory for the stores (several GB at full size).",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--results",
        type=Path,
        default=Path(__file__).resolve().parent / "results" / "latest.json",
        help="Where the raw figures go (JSON).",
    )
    parser.add_argument(
        "--connector-steps-contacts",
        type=int,
        default=20_000,
        help="Size of benchmarks/scenario_protocol.py's step-by-step run.",
    )
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Stop a step (other than seeding and integrator's initial run) that runs longer, "
        "and report it as such, its figures lower bounds.",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=None,
        help="A PostgreSQL server (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test): "
        "Scenario A also runs integrator with its history there (in a schema of its own, "
        "dropped after).",
    )
    parser.add_argument("--note", default="", help="A note printed at the top of the report.")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="Only write BENCHMARKS.md again from saved results (no scenario runs).",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.contacts, args.memory_contacts, args.protocol_contacts = 20_000, 2_000, 5_000
        args.connector_steps_contacts = 2_000
    return args


def _log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _write(results: dict[str, Any], args: argparse.Namespace) -> None:
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    analysis = ANALYSIS.read_text() if ANALYSIS.exists() else None
    args.output.write_text(render(results, analysis) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios, write the JSON results and ``BENCHMARKS.md`` (after each step, so an
    interrupted run leaves what it measured)."""
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.render is not None:
        saved: dict[str, Any] = json.loads(args.render.read_text())
        if args.note:
            saved["note"] = args.note
        args.results = args.render
        _write(saved, args)
        _log(f"wrote {args.output}")
        return 0
    wanted = {s.strip().lower() for s in args.scenarios.split(",") if s.strip()}
    with_dlt = not args.no_dlt and dlt_version() is not None
    if not args.no_dlt and not with_dlt:
        _log("dlt is not installed (pip install -e '.[bench]'): the dlt baseline is left out")
    args.work_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "command": "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv),
        "started": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "load_start": _load(),
        "environment": environment(),
        "note": args.note,
    }

    def step_done() -> None:
        results["seconds"] = round(time.perf_counter() - started, 1)
        results["load_end"] = _load()
        _write(results, args)

    sizes = [args.contacts]
    if 0 < args.memory_contacts < args.contacts:
        sizes.insert(0, args.memory_contacts)
    # the smaller size first, then the protocol, then the large size (the longest step)
    for position, size in enumerate(sizes):
        if "a" in wanted:
            results.setdefault(
                "scenario_a", {"dlt_version": dlt_version() if with_dlt else None, "sizes": {}}
            )

            def save(figures: dict[str, Any], key: str = str(size)) -> None:
                results["scenario_a"]["sizes"][key] = figures
                step_done()

            scenario_a_size(
                args.work_dir,
                size,
                with_dlt=with_dlt,
                profile=position == 0,
                log=_log,
                step_timeout=args.step_timeout,
                save=save,
                postgres_url=args.postgres,
            )
        if position == 0 and "b" in wanted:
            results["scenario_b"] = scenario_b(
                args.work_dir,
                args.protocol_contacts,
                connector_steps=args.connector_steps_contacts if not args.no_connector_steps else 0,
                log=_log,
            )
            step_done()
    step_done()
    _log(f"wrote {args.output} and {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
