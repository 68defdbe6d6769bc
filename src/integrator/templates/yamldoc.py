"""YAML files as people edit them: round-trip loading (comments kept), line numbers for errors.

Every file integrator reads or writes (templates, workspace settings, connections, projects) goes
through here, so a problem always points at ``file:line`` and a rewritten file keeps the
user's comments.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from integrator.errors import ConfigProblem
from integrator.templates.yamlerrors import syntax_problem

__all__ = [
    "MAX_YAML_BYTES",
    "Loc",
    "dump_text",
    "line_of",
    "load_text",
    "read_document",
    "round_trip_yaml",
    "schema_problems",
    "write_document",
]

Loc = Sequence[int | str]

#: the largest YAML file integrator reads (256 KiB). Round-trip loading costs 15-30 s per MB, and
#: the largest shipped template is 5 KB; big value maps belong in a CSV file
#: (``{type: ValueMap, file: maps/NAME.csv}``), which loads in milliseconds.
MAX_YAML_BYTES = 256 * 1024


def round_trip_yaml() -> YAML:
    """A ruamel.yaml round-trip instance set up for integrator's files."""
    yaml = YAML(typ="rt")
    yaml.width = 100
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load_text(text: str, file: str) -> tuple[Any, list[ConfigProblem]]:
    """Parse YAML ``text``; on a syntax error return ``None`` and the problem in plain words,
    with its line (see :func:`integrator.templates.yamlerrors.syntax_problem`)."""
    try:
        return round_trip_yaml().load(text), []
    except MarkedYAMLError as exc:
        return None, [syntax_problem(exc, text, file)]
    except YAMLError as exc:
        return None, [ConfigProblem(file, None, "", f"YAML syntax error: {exc}")]


def read_document(path: Path, file: str) -> tuple[Any, list[ConfigProblem]]:
    """Read and parse the YAML file at ``path``; ``file`` is how problems name it.

    A file larger than :data:`MAX_YAML_BYTES` is a problem naming its size and the limit, and is
    not parsed (nor read past the limit).
    """
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_YAML_BYTES + 1)
            if len(raw) > MAX_YAML_BYTES:
                return None, [_too_large(file, path)]
        # universal newlines, as Path.read_text gives them
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ConfigProblem(file, None, "", f"cannot read the file: {exc}")]
    return load_text(text, file)


def _too_large(file: str, path: Path) -> ConfigProblem:
    try:
        size = f"{path.stat().st_size / 1024:,.0f} KiB"
    except OSError:
        size = f"more than {MAX_YAML_BYTES // 1024} KiB"
    return ConfigProblem(
        file,
        None,
        "",
        f"the file is {size}, larger than the limit of {MAX_YAML_BYTES // 1024} KiB for "
        "integrator's YAML files; move big value maps into a CSV file "
        "({type: ValueMap, file: maps/NAME.csv}) and keep the YAML small",
    )


def dump_text(data: Any) -> str:
    """``data`` as YAML text, comments included."""
    buffer = io.StringIO()
    round_trip_yaml().dump(data, buffer)
    return buffer.getvalue()


def write_document(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` as YAML, comments included."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_text(data), encoding="utf-8")


def line_of(data: Any, loc: Loc) -> int | None:
    """The 1-based line of the deepest node along ``loc`` that the file still has."""
    line: int | None = None
    node = data
    for part in loc:
        try:
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    if line is None and isinstance(data, (CommentedMap, CommentedSeq)) and data.lc.line is not None:
        line = data.lc.line + 1
    return line


def schema_problems(
    exc: ValidationError,
    data: Any,
    file: str,
    describe: Callable[[Loc], str],
    base: Loc = (),
) -> list[ConfigProblem]:
    """One :class:`ConfigProblem` per pydantic error, with line and a readable path.

    ``describe`` turns a location inside the document into a path a person reads ("project
    "X", task Contacts, leg CDS → Destination, row 4"). Input values are never echoed, so a
    secret written in the wrong place does not end up in a message.
    """
    problems: list[ConfigProblem] = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = _clean_loc(data, [*base, *err["loc"]])
        kind = err["type"]
        message = err["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden" and loc:
            message = f"unknown key '{loc[-1]}'"
            where = loc[:-1]
        elif kind == "missing" and loc:
            message = f"missing key '{loc[-1]}'"
            where = loc[:-1]
        else:
            where = loc
        problems.append(ConfigProblem(file, line_of(data, loc), describe(where), message))
    return problems


def _clean_loc(data: Any, loc: Loc) -> list[int | str]:
    """``loc`` without the union-member names pydantic inserts (``SecretRef``, ``str``, ...)."""
    cleaned: list[int | str] = []
    node = data
    for i, part in enumerate(loc):
        is_last = i == len(loc) - 1
        child = _child(node, part)
        if child is not _ABSENT:
            node = child
        elif isinstance(part, str) and not is_last and _looks_like_tag(part):
            continue
        else:
            node = None
        cleaned.append(part)
    return cleaned


def _looks_like_tag(part: str) -> bool:
    return part[:1].isupper() or part in ("str", "int", "float", "bool", "none") or "[" in part


_ABSENT = object()


def _child(node: Any, part: int | str) -> Any:
    if isinstance(node, dict):
        return node.get(part, _ABSENT)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _ABSENT
