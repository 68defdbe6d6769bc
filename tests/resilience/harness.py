"""What the resilience suites share: seeded Sales datasets, sandboxes cloned from them, the
``integrator`` command run (and killed) as a real process, and the history it leaves.

A dataset is a sandbox directory seeded once; every trial serves a byte-for-byte copy of it, so
a trial and its reference run start from the same Sales rows. The reference (an uninterrupted
run of the same data in a separate sandbox) is computed once per dataset and reused.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from integrator.config.workspace import init_workspace
from integrator.mapping.country import resolve_country
from integrator.sandbox.stores import SandboxStore
from integrator.sandbox.stores.seed import seed_sales
from integrator.sandbox.testing import SandboxHandle, running_sandbox
from tests.golden.dataset import dump_outputs

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
CUSTOMERS = "Contacts to Customer (Sales to Fin and Ops)"
PROJECTS = (ACCOUNTS, CONTACTS, CUSTOMERS)
DATABASES = ("sales.db", "cds.db", "finops.db")

Outputs = dict[str, dict[str, list[dict[str, Any]]]]


@dataclass(frozen=True)
class Dataset:
    """Seeded Sales data to run against: ``clean`` data makes every record succeed (so every
    finished run is Completed); otherwise some records fail as the seed's data makes them."""

    name: str
    accounts: int
    contacts: int
    random_seed: int
    clean: bool = True
    #: the sandbox's server page size for Sales and CDS, so a task commits several batches
    page_size: int = 100


# -- datasets and sandboxes ------------------------------------------------------------------


def prepare(dataset: Dataset, directory: Path) -> Path:
    """Seed ``dataset`` into a new sandbox directory under ``directory``; returns it."""
    target = directory / f"dataset-{dataset.name}"
    SandboxStore.open(target)
    seed_sales(
        target,
        accounts=dataset.accounts,
        contacts=dataset.contacts,
        random_seed=dataset.random_seed,
    )
    if dataset.clean:
        make_clean(target)
    return target


def make_clean(data_dir: Path) -> None:
    """Change the seeded Sales rows no record of which fails: no Influencer role (F&O lacks
    it), a last name for every contact, only countries ISO 3166 knows."""
    with sales_db(data_dir) as conn:
        conn.execute("UPDATE contacts SET accountrolecode = 2 WHERE accountrolecode = 3")
        conn.execute(
            "UPDATE contacts SET lastname = 'Doe' WHERE lastname IS NULL OR trim(lastname) = ''"
        )
        for table in ("accounts", "contacts"):
            countries = [
                row[0]
                for row in conn.execute(
                    f"SELECT DISTINCT address1_country FROM {table}"
                    " WHERE address1_country IS NOT NULL"
                )
            ]
            for country in countries:
                if country.strip() and resolve_country(country) is None:
                    conn.execute(
                        f"UPDATE {table} SET address1_country = 'USA' WHERE address1_country = ?",
                        (country,),
                    )


@contextmanager
def sales_db(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """A transaction on the sandbox's Sales database (its triggers keep the P2C fields)."""
    conn = sqlite3.connect(data_dir / "sales.db", timeout=30)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def clone(source: Path, target: Path) -> Path:
    """A copy of the sandbox directory ``source`` (each database through SQLite's backup)."""
    target.mkdir(parents=True)
    for name in DATABASES:
        src = sqlite3.connect(source / name)
        dst = sqlite3.connect(target / name)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
    return target


def cap_page_size(handle: SandboxHandle, size: int) -> None:
    """Make the sandbox serve Sales and CDS in pages of at most ``size`` rows.

    The connectors always ask for 5000 and a workspace cannot change that, so without this a
    dataset small enough for a quick trial is one page per task and a run commits nothing
    mid-task. This reaches into the sandbox's collection reader; fails loudly if it moved.
    """
    for service in ("sales", "cds"):
        reader = handle._server.sandbox.handlers[service]._collections
        assert hasattr(reader, "max_page_size"), "the sandbox's page cap moved; update this"
        reader.max_page_size = size


@contextmanager
def served(data_dir: Path, dataset: Dataset) -> Iterator[SandboxHandle]:
    """A sandbox over ``data_dir`` with the dataset's page size."""
    with running_sandbox(data_dir) as handle:
        cap_page_size(handle, dataset.page_size)
        yield handle


def workspace(directory: Path, handle: SandboxHandle) -> Path:
    """A workspace (as ``integrator init`` writes it) pointing at ``handle``."""
    return init_workspace(directory, handle.url)


# -- the integrator command ------------------------------------------------------------------


def _env() -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}


def command(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run ``integrator ARGS`` to its end."""
    return subprocess.run(
        [sys.executable, "-m", "integrator.cli.main", *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=timeout,
        check=False,
    )


def start(*args: str, log: Path) -> subprocess.Popen[bytes]:
    """Start ``integrator ARGS`` as a process of its own, its output going to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "integrator.cli.main", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_env(),
        )


@dataclass(frozen=True)
class KillAt:
    """When to kill a run: after ``seconds`` from its start, or once the sandbox has answered
    ``requests`` requests since it started (whichever is given)."""

    seconds: float | None = None
    requests: int | None = None

    def __str__(self) -> str:
        if self.seconds is not None:
            return f"at {self.seconds:.2f} s"
        return f"after {self.requests} requests"


def run_and_kill(ws: Path, handle: SandboxHandle, at: KillAt, log: Path) -> bool:
    """Start ``integrator run`` on ``ws`` and SIGKILL it at ``at``; False when it finished
    first (then nothing was killed)."""
    handle.reset_request_counts()
    process = start("run", "--workspace", str(ws), log=log)
    began = time.monotonic()
    try:
        while process.poll() is None:
            if at.seconds is not None:
                due = time.monotonic() - began >= at.seconds
            else:
                assert at.requests is not None
                due = handle.request_counts()["total"] >= at.requests
            if due:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
                return True
            time.sleep(0.005)
            if time.monotonic() - began > 240:
                raise AssertionError(f"integrator run did not end; see {log}")
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def run(ws: Path, *extra: str) -> dict[str, Any]:
    """``integrator run --json`` on ``ws`` to its end; its JSON document (exit 0 or 1)."""
    done = command("run", "--workspace", str(ws), "--json", *extra)
    assert done.returncode in (0, 1) and done.stdout.strip(), (
        f"integrator run exited {done.returncode}: {done.stderr}"
    )
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def history(ws: Path) -> list[dict[str, Any]]:
    """``integrator history --json`` on ``ws``: every run, oldest first."""
    done = command("history", "--workspace", str(ws), "--json", "--limit", "1000")
    assert done.returncode == 0, done.stderr
    runs: list[dict[str, Any]] = json.loads(done.stdout)["runs"]
    return list(reversed(runs))


def history_db(ws: Path) -> sqlite3.Connection:
    """The workspace's history database, for what the CLI does not show (states, checkpoints)."""
    return sqlite3.connect(ws / "history.db", timeout=30)


def outputs(handle: SandboxHandle) -> Outputs:
    """CDS and F&O rows of the sandbox, system columns left out."""
    return dump_outputs(handle.data_dir)


def duplicates(result: Outputs) -> dict[str, int]:
    """Rows whose key appears more than once, per table (the tables' own keys forbid it; this
    checks the business keys the comparison orders by)."""
    keys = {
        "accounts": ("AccountId",),
        "contacts": ("ContactId",),
        "CustomersV2": ("CustomerAccount",),
        "CDSContactPersons": ("ContactPersonPartyNumber", "AssociatedPartyNumber"),
    }
    found: dict[str, int] = {}
    for tables in result.values():
        for table, rows in tables.items():
            seen = [tuple(r.get(k) for k in keys[table]) for r in rows]
            extra = len(seen) - len(set(seen))
            if extra:
                found[table] = extra
    return found


def differences(actual: Outputs, expected: Outputs, limit: int = 5) -> list[str]:
    """What differs between two dumps, readably (first ``limit`` per table)."""
    lines: list[str] = []
    for service, tables in expected.items():
        for table, rows in tables.items():
            have = {json.dumps(r, sort_keys=True) for r in actual.get(service, {}).get(table, [])}
            want = {json.dumps(r, sort_keys=True) for r in rows}
            missing, extra = sorted(want - have), sorted(have - want)
            if missing or extra:
                lines.append(
                    f"{service}.{table}: {len(missing)} missing, {len(extra)} unexpected "
                    f"(of {len(want)})"
                )
                lines.extend(f"  missing {m}" for m in missing[:limit])
                lines.extend(f"  unexpected {e}" for e in extra[:limit])
    return lines


def raw_outputs(handle: SandboxHandle) -> dict[str, list[tuple[Any, ...]]]:
    """Every CDS and F&O row with every column, system ones (``modifiedon``,
    ``versionnumber``) included: equal dumps mean nothing was written in between."""
    tables = {"cds": ("accounts", "contacts"), "finops": ("CustomersV2", "CDSContactPersons")}
    result: dict[str, list[tuple[Any, ...]]] = {}
    for service, names in tables.items():
        conn = sqlite3.connect(handle.data_dir / f"{service}.db", timeout=30)
        try:
            for table in names:
                rows = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
                result[f"{service}.{table}"] = list(rows)
        finally:
            conn.close()
    return result


def writes(handle: SandboxHandle) -> dict[str, dict[str, int]]:
    """Writes the sandbox took since the last reset, per service and method: operations inside
    ``$batch`` requests other than GET, and PATCH, PUT and DELETE requests. (Plain POSTs are
    not counted: the ``$batch`` envelopes are POSTs, and the engine creates nothing without.)"""
    counts = handle.request_counts()
    found: dict[str, dict[str, int]] = {}
    sources = [(counts["batch_operations"], {"GET"}), (counts["requests"], {"GET", "POST"})]
    for per_service, ignored in sources:
        for service, methods in per_service.items():
            for method, n in methods.items():
                if method not in ignored and n:
                    mine = found.setdefault(service, {})
                    mine[method] = mine.get(method, 0) + n
    return found
