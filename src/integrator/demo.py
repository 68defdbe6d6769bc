"""``integrator demo``: the whole flow on this machine, nothing to set up.

A fresh sandbox on a free loopback port with seeded Sales data; a workspace pointing at it; the
three P2C projects run in order; the execution history; where the records went; and the fix for
the Warning the seed document warns about (the missing ``Influencer`` decision-making role),
applied, then the failed records re-run.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from integrator.cli.failures import print_failure_causes
from integrator.cli.render import print_history, print_runs
from integrator.cli.suggest import WorkspaceHints, suggested_command
from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.history import RunStatus, RunSummary
from integrator.engine.run import Engine
from integrator.sandbox.server import SandboxServer
from integrator.sandbox.stores import SandboxStore
from integrator.sandbox.stores.seed import seed_sales

__all__ = ["DemoResult", "run_demo"]

#: the F&O decision-making role Sales' "Influencer" needs (not in F&O's reference data)
MISSING_ROLE = "Influencer"


@dataclass
class DemoResult:
    """What the demo did: where, and the runs it made."""

    directory: Path
    sandbox_url: str
    runs: list[RunSummary] = field(default_factory=list)
    rerun: RunSummary | None = None


def _counts(client: httpx.Client, url: str) -> int:
    response = client.get(url, params={"$count": "true", "$top": "1", "$select": _first_key(url)})
    response.raise_for_status()
    return int(response.json()["@odata.count"])


def _first_key(url: str) -> str:
    entity = url.rstrip("/").rsplit("/", 1)[-1]
    return {
        "accounts": "accountid" if "/sales/" in url else "AccountId",
        "contacts": "contactid" if "/sales/" in url else "ContactId",
        "CustomersV2": "CustomerAccount",
        "CDSContactPersons": "ContactPersonPartyNumber",
    }[entity]


def _where_records_went(console: Console, base: str) -> None:
    table = Table(title="Where the records went", title_justify="left")
    table.add_column("System")
    table.add_column("Entity")
    table.add_column("Rows", justify="right")
    places = [
        ("Sales", "accounts", f"{base}/sales/api/data/v9.2/accounts"),
        ("Sales", "contacts", f"{base}/sales/api/data/v9.2/contacts"),
        ("CDS", "accounts", f"{base}/cds/api/data/v9.2/accounts"),
        ("CDS", "contacts", f"{base}/cds/api/data/v9.2/contacts"),
        ("F&O (USMF)", "CustomersV2", f"{base}/finops/data/CustomersV2"),
        ("F&O (USMF)", "CDSContactPersons", f"{base}/finops/data/CDSContactPersons"),
    ]
    with httpx.Client(timeout=60) as client:
        for system, entity, url in places:
            table.add_row(system, entity, str(_counts(client, url)))
    console.print(table)


def _explain_warnings(console: Console, runs: list[RunSummary], hints: WorkspaceHints) -> None:
    for run in runs:
        if run.status == RunStatus.COMPLETED:
            continue
        console.print(f"\n[bold]{run.project}[/bold]: {run.status}; what to do:")
        errors = [e for t in run.tasks for e in t.errors]
        print_failure_causes(console, errors, project_file=hints.project_file(run.project), limit=5)


def run_demo(
    directory: Path | None = None,
    *,
    accounts: int = 200,
    contacts: int = 2000,
    random_seed: int = 2026,
    console: Console | None = None,
    portal_port: int | None = None,
) -> DemoResult:
    """Run the demo in ``directory`` (a new temporary folder when ``None``). With
    ``portal_port``, then serve the portal on the demo's workspace at that loopback port (no
    sign-in), the sandbox still running, until SIGINT or SIGTERM."""
    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else 130)
    base = directory or Path(tempfile.mkdtemp(prefix="integrator-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    data_dir, workspace_dir = base / "sandbox", base / "workspace"
    console.rule("[bold]integrator demo")
    store = SandboxStore.open(data_dir)
    seeded = seed_sales(data_dir, accounts=accounts, contacts=contacts, random_seed=random_seed)
    console.print(
        f"Sandbox data in {data_dir}: {seeded.accounts} accounts, {seeded.contacts} contacts "
        f"({seeded.quotes} quotes, {seeded.salesorders} orders, {seeded.invoices} invoices) "
        f"seeded in {seeded.seconds:.1f}s"
    )
    server = SandboxServer(store, port=0)
    server.start()
    result = DemoResult(base, server.url)
    try:
        console.print(f"Sandbox serving Sales, CDS and F&O at {server.url}")
        init_workspace(workspace_dir, server.url)
        console.print(f"Workspace {workspace_dir}: one connection set, one project per template")
        workspace = load_workspace(workspace_dir)
        hints = WorkspaceHints.of(workspace_dir, workspace)
        engine = Engine(workspace)
        try:
            console.rule("Runs: prerequisites first")
            result.runs = engine.run()
            print_runs(console, result.runs, max_causes=0, hints=hints)
            console.rule("Execution history")
            print_history(console, engine.history.runs())
            _where_records_went(console, server.url)
            console.rule("Warnings, and how to fix them")
            _explain_warnings(console, result.runs, hints)
            result.rerun = _fix_and_rerun(console, engine, result.runs, server.url, hints)
        finally:
            engine.close()
        if portal_port is not None:
            _serve_portal(console, workspace_dir, portal_port)
    finally:
        server.stop()
    if portal_port is not None:
        return result
    console.rule()
    console.print(
        "Explore it yourself:\n"
        f"  {suggested_command('history', workspace=str(workspace_dir))}\n"
        f"  integrator sandbox serve --data {data_dir} --port 8700   "
        "(then edit connections.yaml to that URL and `integrator run`)\n"
        "Open the portal on the demo's workspace (Data Integrator's pages, in a browser):\n"
        "  integrator demo --portal   the same demo, then the portal at "
        f"http://127.0.0.1:{DEMO_PORTAL_PORT}/ with its sandbox running, until Ctrl-C\n"
        f"  {suggested_command('serve', '--no-auth', workspace=str(workspace_dir))}   this "
        "workspace's history and mappings (its sandbox has stopped)",
        markup=False,
    )
    return result


#: where ``integrator demo --portal`` serves the portal
DEMO_PORTAL_PORT = 8780


def _serve_portal(console: Console, workspace_dir: Path, port: int) -> None:
    """Serve the portal on the demo's workspace (no sign-in, loopback) until stopped."""
    from integrator.serve.server import WorkspaceServer

    def say(line: str) -> None:
        console.print(line, markup=False, highlight=False)

    portal = WorkspaceServer(workspace_dir, port=port, no_auth=True, say=say)
    console.rule("The portal")
    console.print(
        f"Open {portal.url}/ in a browser: the demo's projects, their mappings and its "
        "execution history, no sign-in (this machine only). Ctrl-C ends the demo.",
        markup=False,
    )
    portal.serve()


def _fix_and_rerun(
    console: Console, engine: Engine, runs: list[RunSummary], base: str, hints: WorkspaceHints
) -> RunSummary | None:
    contacts = next(
        (
            run
            for run in runs
            if any(e.field == "DecisionMakingRoleCode" for t in run.tasks for e in t.errors)
        ),
        None,
    )
    if contacts is None:
        return None
    console.rule(f"Applying the fix: add the decision-making role {MISSING_ROLE!r} in F&O")
    with httpx.Client(timeout=60) as client:
        response = client.post(
            f"{base}/finops/data/DecisionMakingRoles",
            json={
                "dataAreaId": "usmf",
                "DecisionMakingRoleCode": MISSING_ROLE,
                "Description": "Influences the decision",
            },
        )
        response.raise_for_status()
    console.print(f"POST /finops/data/DecisionMakingRoles → {response.status_code}")
    console.print(
        f"{hints.command('rerun', str(contacts.id))}  (only the failed records of run "
        f"{contacts.id})",
        markup=False,
    )
    rerun = engine.rerun(contacts.id)
    print_runs(console, [rerun], max_causes=0, hints=hints)
    return rerun
