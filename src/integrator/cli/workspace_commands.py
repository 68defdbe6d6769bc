"""``integrator init`` and ``integrator template list|save``: thin commands over
:mod:`integrator.config` and :mod:`integrator.templates`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from integrator.cli.app import app
from integrator.cli.errors import with_exit_codes
from integrator.cli.options import WorkspaceOption
from integrator.cli.suggest import suggested_command
from integrator.config import (
    init_workspace,
    load_workspace,
    save_project_as_template,
)
from integrator.config.workspace import nearest_workspace_root, sandbox_url_problem
from integrator.errors import ConfigError
from integrator.templates import list_templates

__all__ = ["template_app"]

template_app = typer.Typer(
    help="List templates, or save a project as a new template.\n\n"
    "Example: integrator template list --workspace ./p2c",
    no_args_is_help=True,
)
app.add_typer(template_app, name="template")


@app.command("init")
@with_exit_codes()
def init_command(
    workspace: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    sandbox: Annotated[
        str,
        typer.Option("--sandbox", help="Base URL of a running sandbox, kept as given."),
    ],
    direct: Annotated[
        bool,
        typer.Option(
            "--direct",
            help="Use the direct templates (Sales → F&O, no CDS), with Sales and F&O connections.",
        ),
    ] = False,
) -> None:
    """Create a workspace pointing at a sandbox, with one project per P2C template.

    One connection set (Sales, CDS, F&O at the sandbox URL, organization mapping ORG001 ↔
    USMF) and one project per template, named as the template, for you to edit. With --direct:
    the three direct templates (Sales → F&O) and a connection set of Sales and F&O only
    (legal entity USMF).

    Example: integrator init ./p2c --sandbox http://127.0.0.1:8700
    """
    if (problem := sandbox_url_problem(sandbox)) is not None:
        raise ConfigError(f"--sandbox {problem}")
    root = init_workspace(workspace, sandbox, direct=direct)
    ws = load_workspace(root)
    systems = "Sales and F&O, direct" if direct else "Sales, CDS and F&O"
    typer.echo(f"Created workspace {root}")
    typer.echo("  integrator.yaml    workspace settings (history database, retention)")
    typer.echo(f"  connections.yaml   connection set 'default' ({systems}) → {sandbox}")
    for name in ws.project_files:
        typer.echo(f"  projects/{name}.yaml")
    typer.echo(
        "Edit the projects' mappings and defaults, then: "
        + suggested_command("run", workspace=str(workspace))
    )


@template_app.command("list")
@with_exit_codes()
def template_list_command(workspace: WorkspaceOption = None) -> None:
    """List the shipped templates (read-only) and the workspace's own.

    Example: integrator template list --workspace ./p2c
    """
    root = load_workspace(workspace, strict=False).root if workspace else _nearest_workspace()
    entries = list_templates(root)
    for entry in entries:
        origin = "shipped, read-only" if entry.shipped else f"workspace: {entry.file}"
        if entry.template is not None:
            tasks = ", ".join(t.name for t in entry.template.tasks)
            prior = ", ".join(entry.template.required_prior) or "none"
            typer.echo(f"{entry.name}  ({origin})  tasks: {tasks}; required prior: {prior}")
        else:
            typer.echo(f"{entry.name}  ({origin})  INVALID: {len(entry.problems)} problem(s)")
            for problem in entry.problems:
                typer.echo(f"    {problem}")


def _nearest_workspace() -> Path | None:
    # no workspace here is fine (the shipped templates are listed); an untrusted one is not
    return nearest_workspace_root()


@template_app.command("save")
@with_exit_codes()
def template_save_command(
    project: Annotated[str, typer.Argument(help="The project to save (its name).")],
    name: Annotated[str, typer.Argument(help="The new template's name.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Save a project's tasks, mappings and prerequisites as a new template in the workspace.

    Example: integrator template save "Accounts (Sales to Fin and Ops)" "Accounts EU" -w ./p2c
    """
    ws = load_workspace(workspace, strict=False)
    path = save_project_as_template(ws, project, name)
    typer.echo(f'Saved template "{name}" to {path}')
