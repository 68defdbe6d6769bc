"""The mapping page's draft: one leg's rows as the page's form carries them (each a JSON
object in the shape of the project file's rows), how a row is shown in the grid, and how the
row editor's fields rebuild a row."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from integrator.mapping.catalog import TransformDoc, describe_step
from integrator.mapping.rows import TransformSpec
from integrator.templates.yamldoc import round_trip_yaml

__all__ = [
    "Draft",
    "argument_text",
    "chosen_step",
    "rebuild_row",
    "row_view",
    "step_params",
    "step_type",
]


# -- the draft ---------------------------------------------------------------------------------


@dataclass
class Draft:
    """What the page edits: one leg's rows and the task's source filter, and the file's
    version they started from."""

    leg: str
    rows: list[dict[str, Any]]
    source_filter: str
    version: str
    query: str = ""


def is_default(step: Any) -> bool:
    return isinstance(step, dict) and str(step.get("type", "")).casefold() == "default"


def step_type(step: Any) -> str:
    return step if isinstance(step, str) else str(step.get("type", ""))


def step_params(step: Any) -> dict[str, Any]:
    return {} if isinstance(step, str) else {k: v for k, v in step.items() if k != "type"}


def default_value(row: Mapping[str, Any]) -> Any:
    for step in reversed(row.get("transforms") or []):
        if is_default(step) and "value" in step:
            return step["value"]
    return None


def parse_argument(text: str) -> Any:
    """An argument typed in a field: YAML (``60``, ``[a, b]``, ``{'1': A}``), else text."""
    try:
        value = round_trip_yaml().load(text)
    except Exception:
        return text
    from integrator.config.tasks_edit import plain

    return text if value is None else plain(value)


def argument_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def chosen_step(form: FormData, prefix: str, catalog: Mapping[str, TransformDoc]) -> Any:
    """The transform step chosen in the ``prefix`` fields (``None``: none chosen)."""
    name = str(form.get(f"{prefix}_transform") or "")
    doc = catalog.get(name)
    if doc is None:
        return None
    params: dict[str, Any] = {}
    for argument in doc.arguments:
        text = str(form.get(f"{prefix}_arg_{argument.name}") or "").strip()
        if text:
            params[argument.name] = parse_argument(text)
    return {"type": doc.name, **params} if params else doc.name


def value_of(text: str, original: Any) -> Any:
    """A template value typed as ``text``: the original value when it reads the same (a
    number stays a number, ``'Yes'`` keeps its quotes), else the text."""
    if original is not None and argument_text(original) == text:
        return original
    return text


def rebuild_row(
    row: Mapping[str, Any], source: str | None, step: Any, keep: bool, value: str
) -> dict[str, Any]:
    """``row`` with its source, transform and template value as the editor gives them;
    ``keep`` keeps its non-Default steps as they are (a chain the editor does not edit)."""
    original = list(row.get("transforms") or [])
    others = [s for s in original if not is_default(s)]
    if not keep:
        chosen = [step] if step is not None else []
        same = (
            len(others) == 1
            and len(chosen) == 1
            and step_type(others[0]) == step_type(chosen[0])
            and step_params(others[0]) == step_params(chosen[0])
        )
        if same:
            chosen = others  # unchanged: written as it was (``Truncate``, not ``{type: ...}``)
        others = chosen
    defaults = [s for s in original if is_default(s)]
    text = value.strip()
    if not text:
        new_defaults: list[Any] = []
    elif defaults:
        new_defaults = [{**defaults[-1], "value": value_of(text, defaults[-1].get("value"))}]
    else:
        new_defaults = [{"type": "Default", "value": text}]
    default_first = bool(original) and is_default(original[0]) and bool(others)
    transforms = [*new_defaults, *others] if default_first else [*others, *new_defaults]
    rebuilt: dict[str, Any] = {"destination": row["destination"]}
    if source:
        rebuilt["source"] = source
    if transforms:
        rebuilt["transforms"] = transforms
    extra = {k: v for k, v in row.items() if k not in ("destination", "source", "transforms")}
    return {**rebuilt, **extra}


# -- what the page shows -----------------------------------------------------------------------


@dataclass
class RowView:
    """One row of the grid."""

    index: int
    destination: str
    source: str | None
    map_type: str
    value: Any
    chain: str
    json: str
    issues: list[str] = field(default_factory=list)
    hidden: bool = False
    #: the non-Default steps, when the editor can offer them as one transform
    step: Any = None
    several_steps: bool = False


def row_view(index: int, row: Mapping[str, Any], query: str) -> RowView:
    transforms = list(row.get("transforms") or [])
    others = [s for s in transforms if not is_default(s)]
    chain = " → ".join(
        describe_step(TransformSpec.model_validate(s)) for s in others if step_type(s)
    )
    source = row.get("source")
    value = default_value(row)
    text = " ".join(str(x) for x in (row.get("destination"), source, value, chain) if x)
    return RowView(
        index=index,
        destination=str(row.get("destination", "")),
        source=None if source is None else str(source),
        map_type="Fn" if transforms else "=",
        value=value,
        chain=chain,
        json=json.dumps(dict(row), ensure_ascii=False, separators=(",", ":")),
        hidden=bool(query) and query.casefold() not in text.casefold(),
        step=others[0] if len(others) == 1 else None,
        several_steps=len(others) > 1,
    )
