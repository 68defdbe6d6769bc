"""``integrator run``, ``integrator history`` and ``integrator rerun``."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer
from rich.text import Text

from integrator.cli.app import app
from integrator.cli.errors import with_exit_codes
from integrator.cli.mail_notice import print_mail, send_outbox
from integrator.cli.notices import print_truncations, with_truncations
from integrator.cli.options import JsonOption, WorkspaceOption
from integrator.cli.progress import progress_display
from integrator.cli.queue_run import enqueue_runs, new_request, print_enqueued, wait_for_runs
from integrator.cli.render import (
    output_console,
    print_history,
    print_run_detail,
    print_runs,
    runs_json,
)
from integrator.cli.suggest import WorkspaceHints
from integrator.config.workspace import Workspace, load_workspace
from integrator.engine import run as engine_run
from integrator.engine.connections import history_url
from integrator.engine.history import HistoryStore, RunStatus, RunSummary
from integrator.errors import NothingToRerun, RunNotFound, SystemUnavailable, UsageError
from integrator.notify import MailStatus, mail_status

__all__ = ["history", "rerun", "run"]


def _emit_json(document: object) -> None:
    sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")


def _exit_code(summaries: list[RunSummary]) -> int:
    return 1 if any(s.status == RunStatus.ERROR for s in summaries) else 0


@app.command("run")
@with_exit_codes(interruptible=True)
def run(
    projects: Annotated[
        list[str] | None, typer.Argument(help="Projects to run (default: all), by name.")
    ] = None,
    workspace: WorkspaceOption = None,
    all_data: Annotated[
        bool, typer.Option("--all-data", help="Run with all data, not only what changed.")
    ] = False,
    json_output: JsonOption = False,
    wait: Annotated[
        float,
        typer.Option("--wait", help="Seconds to wait for a run of the same project to finish."),
    ] = 0.0,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed",
            help="Retry every record that failed on its data now, not after its backoff.",
        ),
    ] = False,
    queue: Annotated[
        bool,
        typer.Option(
            "--queue",
            help="Distributed mode: enqueue the runs for integrator worker and return.",
        ),
    ] = False,
) -> None:
    """Run projects, prerequisites first, and print what happened to every record.

    In distributed mode (workers: in integrator.yaml) the runs are jobs that integrator
    worker processes run: with --queue the command enqueues them and prints the jobs;
    without, it waits for them to end and prints the runs.

    Exit code 0 when no run ended in Error, 1 when one did, 2 for bad usage or configuration,
    3 when a system cannot be reached or refuses the credentials, 4 when a project is already
    running elsewhere, 130 when interrupted.

    Example: integrator run --workspace ./p2c
    """
    console = output_console(stderr=json_output)
    show_progress = not json_output and sys.stderr.isatty()
    ws = load_workspace(workspace, strict=False)
    if queue and not ws.settings.distributed:
        raise UsageError(
            "--queue needs distributed mode: add workers: {queue: true} to integrator.yaml "
            "(with a PostgreSQL history)"
        )
    if ws.settings.distributed:
        _run_queued(ws, projects or [], all_data, retry_failed, queue, json_output)
        return
    with progress_display(show_progress) as sink:
        engine = engine_run.Engine(ws, progress=sink, lock_wait=wait)
        try:
            summaries = engine.run(projects or [], all_data=all_data, retry_failed=retry_failed)
        finally:
            engine.close()
    if json_output:
        _emit_json(with_truncations(runs_json(summaries), summaries))
    else:
        print_runs(console, summaries, hints=WorkspaceHints.of(workspace, ws))
        print_truncations(console, summaries)
    send_outbox(ws, summaries, None if json_output else console)
    raise typer.Exit(_exit_code(summaries))


def _run_queued(
    ws: Workspace,
    projects: list[str],
    all_data: bool,
    retry_failed: bool,
    queue_only: bool,
    json_output: bool,
) -> None:
    """``integrator run`` in distributed mode (see :mod:`integrator.cli.queue_run`)."""
    console = output_console(stderr=json_output)
    request = new_request()
    enqueued, newest = enqueue_runs(
        ws, projects, all_data=all_data, retry_failed=retry_failed, request=request
    )
    if queue_only:
        if json_output:
            _emit_json({"enqueued": [each.as_json() for each in enqueued]})
        else:
            print_enqueued(console, enqueued)
        raise typer.Exit(0)
    if not json_output:
        print_enqueued(console, enqueued)
    order = [name for each in enqueued for name in (each.project, *each.then)]
    summaries = wait_for_runs(ws, request, order, newest)
    if json_output:
        _emit_json(with_truncations(runs_json(summaries), summaries))
    else:
        print_runs(console, summaries, hints=WorkspaceHints.of(None, ws))
        print_truncations(console, summaries)
    raise typer.Exit(_exit_code(summaries))


@app.command("rerun")
@with_exit_codes(interruptible=True)
def rerun(
    run_id: Annotated[int, typer.Argument(help="The run whose failed records to run again.")],
    workspace: WorkspaceOption = None,
    json_output: JsonOption = False,
) -> None:
    """Re-run execution: run again only the records that failed in RUN.

    A run without failed records has nothing to run again: no run is added (exit code 0).

    RUN is a run's number, as `integrator history` lists them.

    Example: integrator rerun 2 --workspace ./p2c
    """
    console = output_console(stderr=json_output)
    ws = load_workspace(workspace, strict=False)
    engine = engine_run.Engine(ws)
    try:
        summary = engine.rerun(run_id)
    except NothingToRerun as outcome:
        if json_output:
            _emit_json({"runs": [], "message": str(outcome)})
        else:
            console.print(str(outcome), markup=False, soft_wrap=True)
        raise typer.Exit(0) from None
    finally:
        engine.close()
    if json_output:
        _emit_json(with_truncations(runs_json([summary]), [summary]))
    else:
        print_runs(console, [summary], hints=WorkspaceHints.of(workspace, ws))
        print_truncations(console, [summary])
    send_outbox(ws, [summary], None if json_output else console)
    raise typer.Exit(_exit_code([summary]))


@app.command("history")
@with_exit_codes()
def history(
    project: Annotated[str | None, typer.Argument(help="Only this project's runs.")] = None,
    workspace: WorkspaceOption = None,
    run_id: Annotated[
        int | None, typer.Option("--run", help="Show one run with every failed record.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many runs to list.")] = 20,
    json_output: JsonOption = False,
) -> None:
    """The execution history, newest first: each run's project, status and task counts.

    Example: integrator history "Accounts (Sales to Fin and Ops)" --workspace ./p2c
    """
    console = output_console(stderr=json_output)
    ws = load_workspace(workspace, strict=False)
    store = HistoryStore.open(history_url(ws))
    mail: MailStatus | None = None
    try:
        if run_id is not None:
            detail = store.run(run_id)
            if detail is None:
                raise RunNotFound(run_id)
            summaries = [detail]
            mail = mail_status(store, run_id)
        else:
            name = ws.project_name(project) if project else None
            summaries = store.runs(name, limit=limit)
    finally:
        store.close()
    if json_output:
        document = runs_json(summaries, with_errors=run_id is not None)
        if run_id is not None:
            document["runs"][0]["mail"] = mail.as_dict() if mail is not None else None
        _emit_json(with_truncations(document, summaries) if run_id is not None else document)
    elif run_id is not None:
        print_run_detail(console, summaries[0], hints=WorkspaceHints.of(workspace, ws))
        print_truncations(console, summaries)
        print_mail(console, mail)
    elif not summaries:
        console.print("No runs yet.")
    else:
        print_history(console, summaries)


@app.command("upgrade")
@with_exit_codes()
def upgrade(workspace: WorkspaceOption = None, json_output: JsonOption = False) -> None:
    """Run the P2C upgrade script against the workspace's Sales (safe to run again).

    Numbers contacts and accounts that have none, sets Is Active Customer and
    IsCompanyAnAccount.

    Example: integrator upgrade --workspace ./p2c
    """
    from integrator.engine.connections import ConnectorPool
    from integrator.p2c.seed import autonumber_seed_setter
    from integrator.p2c.upgrade import run_upgrade

    console = output_console(stderr=json_output)
    ws = load_workspace(workspace, strict=False)
    pool = ConnectorPool(ws)
    try:
        sales = pool.get("sales")
        report = run_upgrade(sales, autonumber_seed_setter(sales))
    except SystemUnavailable as error:
        raise error.named(system="sales") from None
    finally:
        pool.close()
    document = {
        "contacts_numbered": report.contacts_numbered,
        "accounts_numbered": report.accounts_numbered,
        "active_customers_set": report.active_customers_set,
        "company_flags_set": report.company_flags_set,
        "failures": report.failures,
    }
    if json_output:
        _emit_json(document)
    else:
        console.print(
            f"Numbered {report.contacts_numbered} contacts and {report.accounts_numbered} "
            f"accounts; Is Active Customer set on {report.active_customers_set} contacts; "
            f"IsCompanyAnAccount set on {report.company_flags_set} contacts."
        )
        for failure in report.failures:
            console.print(Text.assemble(("failed:", "red"), " ", str(failure)), highlight=False)
    raise typer.Exit(1 if report.failures else 0)
