"""``integrator transforms``: every transform a mapping row can use, its arguments, an example."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from integrator.cli.app import app
from integrator.mapping import transform_names
from integrator.mapping.catalog import ArgumentDoc, TransformDoc, transform_catalog

__all__ = ["transforms_command"]


@app.command("transforms")
def transforms_command(
    name: Annotated[
        str | None, typer.Argument(help="Only this transform (case-insensitive).")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help='Print one JSON document: {"transforms": [...]}.')
    ] = False,
) -> None:
    """List the transforms a mapping row can chain, each with its arguments and an example.

    A row applies its transforms in order: transforms: [CountryRegionCode, {type: Default,
    value: USA}]. A transform without arguments may be written by its name alone.

    Example: integrator transforms ValueMap
    """
    catalog = transform_catalog()
    if name is not None:
        catalog = [doc for doc in catalog if doc.name.casefold() == name.casefold()]
        if not catalog:
            typer.echo(
                f"error: no transform named {name!r} (known: {', '.join(transform_names())})",
                err=True,
            )
            raise typer.Exit(2)
    if json_output:
        document = {"transforms": [doc.as_dict() for doc in catalog]}
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    for index, doc in enumerate(catalog):
        if index:
            typer.echo("")
        typer.echo("\n".join(_describe(doc)))


def _describe(doc: TransformDoc) -> list[str]:
    lines = [f"{doc.name}: {doc.summary}"]
    if doc.arguments:
        width = max(len(a.name) for a in doc.arguments)
        kinds = max(len(a.type) for a in doc.arguments)
        needs = max(len(_need(a)) for a in doc.arguments)
        for argument in doc.arguments:
            need = _need(argument)
            text = f"  {argument.name:<{width}}  {argument.type:<{kinds}}  {need:<{needs}}"
            lines.append(f"{text}  {argument.description}".rstrip())
    else:
        lines.append("  (no arguments)")
    lines.append(f"  example: transforms: [{doc.example}]")
    return lines


def _need(argument: ArgumentDoc) -> str:
    if argument.required:
        return "required"
    if argument.default is None:
        return "optional"
    value = argument.default
    return f"default {value!r}" if isinstance(value, str) else f"default {value}"
