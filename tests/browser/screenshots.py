"""Screenshots of the portal's main pages at 1366×768, as the README shows them.

    python -m tests.browser.screenshots OUTDIR

Starts a sandbox seeded as ``integrator demo`` seeds it, a workspace on it, runs its three
projects (Contacts to Contact ends Warning with failed records), serves the portal with
``integrator serve``, signs in in Debian's Chromium and saves one PNG per page in OUTDIR.
A page that answers an error is not saved (said on stderr) and the exit code is 1.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from tests.browser.chromium import chromium, new_context, unavailable
from tests.browser.serving import served_portal

if TYPE_CHECKING:
    from integrator.sandbox.server import SandboxServer

CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"


@dataclass(frozen=True)
class Shot:
    """One screenshot: the file, the page's path and whether to take the whole page."""

    file: str
    path: str
    full_page: bool = True


def shots(failed_run_id: int | None) -> list[Shot]:
    """The pages to photograph, in the README's order (the sign-in page is taken first)."""
    contacts = quote(CONTACTS, safe="")
    listed = [
        Shot("dashboard.png", "/"),
        Shot("projects.png", "/projects"),
        Shot("project.png", f"/projects/{contacts}"),
        Shot("mapping.png", f"/projects/{contacts}/tasks/0/mapping?leg=cds_to_destination"),
        Shot("runs.png", "/runs"),
        Shot("connection-set.png", "/connections/default"),
    ]
    if failed_run_id is not None:
        # the first screen of it: the causes with their fix, then the records (100 a page)
        listed.insert(5, Shot("run-failed-records.png", f"/runs/{failed_run_id}", False))
    return listed


def _prepare(base: Path) -> tuple[Path, int | None, SandboxServer]:
    """A seeded sandbox (started; the caller stops it) and a workspace whose three projects
    have run. Returns the workspace, the id of a run with failed records and the sandbox."""
    from integrator.config.workspace import init_workspace, load_workspace
    from integrator.engine.run import Engine
    from integrator.sandbox.server import SandboxServer
    from integrator.sandbox.stores import SandboxStore
    from integrator.sandbox.stores.seed import seed_sales

    data_dir, workspace_dir = base / "sandbox", base / "workspace"
    store = SandboxStore.open(data_dir)
    seed_sales(data_dir, accounts=200, contacts=2000, random_seed=2026)
    sandbox = SandboxServer(store, port=0)
    sandbox.start()
    init_workspace(workspace_dir, sandbox.url)
    engine = Engine(load_workspace(workspace_dir))
    try:
        runs = engine.run()
    finally:
        engine.close()
    with_failures = [r for r in runs if any(t.errors for t in r.tasks)]
    # the seed's own example: Contacts to Contact's missing decision-making role
    with_failures.sort(key=lambda r: r.project != CONTACTS)
    failed = with_failures[0].id if with_failures else None
    for run in runs:
        print(f"ran {run.project}: {run.status} (run {run.id})", file=sys.stderr)
    return workspace_dir, failed, sandbox


def take(outdir: Path, base: Path) -> list[str]:
    """Take every screenshot into ``outdir`` (working files in ``base``); returns what could
    not be taken, and why."""
    outdir.mkdir(parents=True, exist_ok=True)
    workspace, failed_run, sandbox = _prepare(base)
    missing: list[str] = []
    try:
        with served_portal(workspace) as served, chromium() as browser:
            context = new_context(browser)
            page = context.new_page()
            page.goto(served.url + "/signin")
            page.screenshot(path=str(outdir / "signin.png"))
            page.get_by_label("Password").fill(served.password)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("button", name="Sign out").wait_for()
            for shot in shots(failed_run):
                response = page.goto(served.url + shot.path, wait_until="load")
                status = response.status if response is not None else 0
                if status != 200:
                    missing.append(f"{shot.file}: {shot.path} answered {status}")
                    continue
                page.wait_for_timeout(300)  # htmx swaps that follow the load
                page.screenshot(path=str(outdir / shot.file), full_page=shot.full_page)
            context.close()
    finally:
        sandbox.stop()
    return missing


def main(argv: list[str]) -> int:
    """``python -m tests.browser.screenshots OUTDIR``; exit 0 when every page was taken."""
    if len(argv) != 1:
        print("usage: python -m tests.browser.screenshots OUTDIR", file=sys.stderr)
        return 2
    if (reason := unavailable()) is not None:
        print(f"screenshots: {reason}", file=sys.stderr)
        return 2
    outdir = Path(argv[0])
    with tempfile.TemporaryDirectory(prefix="integrator-screenshots-") as base:
        missing = take(outdir, Path(base))
    for line in missing:
        print(f"screenshots: not taken: {line}", file=sys.stderr)
    taken = sorted(p.name for p in outdir.glob("*.png"))
    print(f"screenshots: {len(taken)} in {outdir}: {', '.join(taken)}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
