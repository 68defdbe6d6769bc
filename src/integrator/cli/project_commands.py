"""``integrator project new`` and ``integrator project show``: thin commands over
:mod:`integrator.config`."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from integrator.cli.app import app
from integrator.cli.errors import with_exit_codes
from integrator.cli.options import WorkspaceOption
from integrator.cli.project_view import print_project, project_json
from integrator.cli.render import output_console
from integrator.cli.suggest import suggested_command, workspace_argument
from integrator.config import load_workspace
from integrator.config.new_project import create_project

__all__ = ["project_app"]

project_app = typer.Typer(
    help="Start a project from a template, or show a project's tasks and mappings.\n\n"
    'Example: integrator project show "Accounts (Sales to Fin and Ops)" -w ./p2c',
    no_args_is_help=True,
)
app.add_typer(project_app, name="project")


@project_app.command("new")
@with_exit_codes()
def project_new_command(
    name: Annotated[str, typer.Argument(help="The new project's name (its file name).")],
    template: Annotated[
        str,
        typer.Option(
            "--template",
            "-t",
            help="A shipped template or one saved with `integrator template save`.",
        ),
    ],
    connection_set: Annotated[
        str, typer.Option("--connection-set", help="The connection set the project uses.")
    ] = "default",
    workspace: WorkspaceOption = None,
) -> None:
    """Create a project from a template (shipped or the workspace's own), for you to edit.

    The project gets the template's tasks, mappings, filters and prerequisites, bound to the
    connection set. Refuses a name already taken and a template that does not exist.

    Example: integrator project new "EU accounts" -t "Accounts (Sales to Fin and Ops)" -w ./p2c
    """
    ws = load_workspace(workspace, strict=False)
    path = create_project(ws, name, template, connection_set)
    typer.echo(f'Created project "{name}" from template "{template}": {path}')
    show = suggested_command(
        "project", "show", name, workspace=workspace_argument(workspace, ws.root)
    )
    typer.echo(f"Edit its mappings in that file; see them with: {show}")


@project_app.command("show")
@with_exit_codes()
def project_show_command(
    name: Annotated[str, typer.Argument(help="The project (its name).")],
    workspace: WorkspaceOption = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document, no colours.")
    ] = False,
) -> None:
    """Show a project: per task and leg its mapping grid (SOURCE FIELD, MAP TYPE, DESTINATION
    FIELD, TEMPLATE VALUE, TRANSFORMS), its source filter and its prerequisites.

    Example: integrator project show "Contacts to Contact (Sales to Fin and Ops)" -w ./p2c
    """
    ws = load_workspace(workspace, strict=False)
    resolved = ws.project_name(name)
    project = ws.project(resolved)
    file = ws.project_files[resolved]
    if json_output:
        document = project_json(resolved, file, project)
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    print_project(output_console(), resolved, file, project)
