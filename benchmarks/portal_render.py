"""How long the portal's run pages take to render on a large history.

Builds a workspace (``integrator init``, no system needed: the pages read only the files and
the history), adds projects up to ``--projects`` (Data Integrator's limit of scheduled projects
per tenant is 50), records one run of 10,000 failed records (in pages of 1,000, as the engine
commits them) and a few hundred other runs through the history store's own API, then times each
page through Starlette's TestClient (in-process: the figures are the portal's work, not a
network's) and prints the median of 5 after one warm-up request, and its ratio to the baseline
measured in the same run: a GET of a static file through the same stack (sign-in check, session,
routing), the cost every request pays::

With ``--browser``, the same pages are also served over loopback HTTP by uvicorn and opened
in Debian's Chromium (headless, 1366×768): the figure is the navigation's ``loadEventEnd``
(request sent to page loaded: the portal's work, the transfer, parsing, styles and htmx), the
baseline an empty page in the same layout (a 404 page)::

    python -m benchmarks.portal_render                 # 50 projects, 300 runs, 10,000 failed
    python -m benchmarks.portal_render --browser       # and in Chromium
    python -m benchmarks.portal_render --runs 5000 --failed 20000
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from integrator.engine.history import Counts, HistoryStore, RecordError, RunStatus
from integrator.engine.history.runlog import RunLog
from integrator.portal import PortalContext, create_portal
from integrator.portal.auth import PortalCredentials

if TYPE_CHECKING:
    from starlette.testclient import TestClient

PROJECT = "Contacts to Contact (Sales to Fin and Ops)"
#: the causes the failed records share, as a real run's do (a few, one large)
CAUSES = (
    ("CDS → Destination", "DecisionMakingRoleCode", "DecisionMakingRoleCode '{}' does not exist"),
    ("Source → CDS", "EMailAddress1", "EMailAddress1 is required"),
    ("Source → CDS", "Telephone1", "Telephone1 is longer than 50 characters"),
)
PAGE = 1000
REPEATS = 5


def record_run(log: RunLog, history: HistoryStore, *, failed: int, inserted: int) -> int:
    """One finished run of :data:`PROJECT` with ``failed`` records failed, written as the
    engine writes one: start, a batch per page, finish."""
    run_id = log.start_run(PROJECT, ["Contacts"], mode="incremental", trigger="manual")
    log.start_task(run_id, 0)
    done = 0
    while done < max(failed, 1):
        size = min(PAGE, failed - done) if failed else 0
        errors = []
        for n in range(done, done + size):
            leg, field, message = CAUSES[0 if n % 10 < 8 else 1 + n % 2]
            errors.append(
                RecordError(
                    task="Contacts",
                    leg=leg,
                    key=f"CON-{n:06d}",
                    field=field,
                    message=message.format("Influencer"),
                    source_key={"contactid": f"CON-{n:06d}"},
                )
            )
        counts = Counts(read=size + inserted, inserted=inserted, errors=size)
        with history.engine.begin() as conn:
            log.add_batch(conn, run_id, 0, counts, errors)
        inserted = 0
        done += size or 1
    log.finish_task(run_id, 0)
    log.finish_run(run_id)
    return run_id


def add_projects(root: Path, count: int) -> None:
    """Copies of the Contacts project until the workspace has ``count`` projects, each with a
    schedule (as the projects page shows NEXT SYNC for each)."""
    from integrator.config.edit import set_project_key
    from integrator.config.new_project import create_project
    from integrator.config.workspace import load_workspace

    workspace = load_workspace(root)
    for n in range(len(workspace.project_files), count):
        create_project(workspace, f"Contacts copy {n:03d}", PROJECT, "default")
    workspace = load_workspace(root)
    for name in workspace.project_files:
        set_project_key(workspace, name, "schedule", {"every": 15, "unit": "minutes"})


def build(root: Path, *, runs: int, failed: int, projects: int = 3) -> int:
    """The workspace at ``root`` with ``runs`` small runs and one of ``failed`` failed records;
    returns that run's id."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "integrator.cli.main",
            "init",
            str(root),
            "--sandbox",
            "http://127.0.0.1:9",
        ],
        check=True,
        capture_output=True,
    )
    from integrator.config.workspace import load_workspace
    from integrator.engine.connections import history_url

    add_projects(root, projects)
    history = HistoryStore.open(history_url(load_workspace(root)))
    try:
        for n in range(runs):
            run_id = history.log.start_run(
                PROJECT, ["Contacts"], mode="incremental", trigger="schedule"
            )
            status = (RunStatus.COMPLETED, RunStatus.WARNING, RunStatus.ERROR)[n % 3]
            counts = Counts(read=10, inserted=10 - n % 3, errors=n % 3)
            with history.engine.begin() as conn:
                history.log.add_batch(conn, run_id, 0, counts, [])
            history.log.finish_task(run_id, 0, status)
            history.log.finish_run(run_id, status)
        return record_run(history.log, history, failed=failed, inserted=5)
    finally:
        history.close()


def median_ms(client: TestClient, path: str) -> float:
    """The median time of :data:`REPEATS` GETs of ``path`` (after one warm-up), in ms."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(times)


def browser_ms(page: Any, url: str) -> float:
    """The median, over :data:`REPEATS` loads after one warm-up, of ``url``'s navigation from
    the request to the load event, in ms (the browser's own clock)."""
    times = []
    for n in range(REPEATS + 1):
        response = page.goto(url, wait_until="load")
        assert response is not None and response.status in (200, 404), (url, response)
        timing = page.evaluate(
            "() => { const t = performance.getEntriesByType('navigation')[0];"
            " return t.loadEventEnd - t.requestStart; }"
        )
        if n:
            times.append(float(timing))
    return statistics.median(times)


def measure_in_browser(app: Any, pages: dict[str, str]) -> None:
    """Serve ``app`` with uvicorn on a free loopback port and time ``pages`` in Chromium."""
    import asyncio
    import socket
    import threading

    import uvicorn

    from tests.browser.chromium import chromium, new_context, unavailable

    reason = unavailable()
    if reason:
        print(f"not measured in a browser: {reason}")
        return
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(64)
    port = listening.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[listening])), daemon=True
    )
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        with chromium() as browser:
            context = new_context(browser)
            page = context.new_page()
            baseline = browser_ms(page, base + "/no-such-page")
            print(f"{baseline:8.1f} ms  baseline: an empty page in the layout (in Chromium)")
            for label, path in pages.items():
                if path.startswith("/api/"):
                    continue
                took = browser_ms(page, base + path)
                print(f"{took:8.1f} ms  {took / baseline:6.1f}× baseline  {label} (in Chromium)")
            context.close()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listening.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="small runs in the history")
    parser.add_argument("--failed", type=int, default=10_000, help="failed records of one run")
    parser.add_argument("--projects", type=int, default=50, help="projects in the workspace")
    parser.add_argument(
        "--browser", action="store_true", help="also time the pages in Debian's Chromium"
    )
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="integrator-portal-bench-") as directory:
        root = Path(directory) / "ws"
        started = time.perf_counter()
        big = build(root, runs=options.runs, failed=options.failed, projects=options.projects)
        print(
            f"workspace: {options.projects} projects; history: {options.runs + 1} runs, run "
            f"{big} with {options.failed} failed records (built in "
            f"{time.perf_counter() - started:.1f} s)"
        )
        with warnings.catch_warnings():  # Starlette's TestClient asks for httpx2
            warnings.simplefilter("ignore")
            from starlette.testclient import TestClient

        context = PortalContext(root, credentials=PortalCredentials.load(root), no_auth=True)
        app = create_portal(context)
        with TestClient(app, base_url="http://127.0.0.1") as client:
            baseline = median_ms(client, "/static/portal.css")
            print(f"{baseline:8.1f} ms  baseline: GET /static/portal.css (every request's cost)")
            pages = {
                f"GET /projects (projects page, {options.projects} projects)": "/projects",
                f"GET /runs/{big} (run page, {options.failed} failed records)": f"/runs/{big}",
                f"GET /runs/{big}?page=50 (a later page of records)": f"/runs/{big}?page=50",
                "GET / (dashboard, last 4 weeks)": "/",
                "GET /runs (execution history, first 50)": "/runs",
                "GET /runs?status=Error (filtered)": "/runs?status=Error",
                f"GET /api/runs/{big} (JSON with every failed record)": f"/api/runs/{big}",
            }
            for label, path in pages.items():
                took = median_ms(client, path)
                print(f"{took:8.1f} ms  {took / baseline:6.1f}× baseline  {label}")
        if options.browser:
            measure_in_browser(app, pages)
        context.close()


if __name__ == "__main__":
    main()
