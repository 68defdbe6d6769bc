"""Edits of a project file as a person would make them: one key changed, everything else (comments,
order, layout) kept. The command line (``integrator schedule``) and the portal both edit here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from integrator.config.files import write_workspace_file
from integrator.config.models import Project
from integrator.config.workspace import Workspace, _parse
from integrator.errors import ConfigError, ConfigProblem
from integrator.templates.yamldoc import dump_text, load_text, read_document

__all__ = ["set_project_key"]

#: a new key goes after the last of these the file has (else at the end): where people look
_AFTER = ("connection_set", "template")


def _flow(value: object) -> Any:
    """``value`` as ruamel nodes written on one line: ``{every: 15, unit: minutes}``."""
    if isinstance(value, dict):
        node = CommentedMap((k, _flow(v)) for k, v in value.items())
        node.fa.set_flow_style()
        return node
    if isinstance(value, (list, tuple)):
        seq = CommentedSeq(_flow(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value


def _remove(document: CommentedMap, key: str) -> None:
    """Remove ``key``, keeping the comment lines that follow it (ruamel hangs them on the key):
    they are about what comes next, or were a commented-out line the person keeps."""
    token = document.ca.items.get(key, [None, None, None, None])[2]
    lines = token.value.splitlines() if token is not None else []
    if lines and token.start_mark.line == document.lc.key(key)[0]:
        lines = lines[1:]  # the comment at the end of the removed line goes with it
    keys = list(document)
    following = keys[keys.index(key) + 1 :]
    del document[key]
    kept = [line.strip().removeprefix("#").removeprefix(" ") for line in lines if line.strip()]
    if kept and following:
        document.yaml_set_comment_before_after_key(following[0], before="\n".join(kept))


def set_project_key(workspace: Workspace, project: str, key: str, value: object | None) -> Path:
    """Set the top-level ``key`` of ``project``'s file to ``value`` (``None``: remove the key),
    keeping every comment and the order and layout of everything else; returns the file.

    The file is read again from disk, and the result is validated as a project before anything
    is written: a bad value raises :class:`ConfigError` naming the file and line, and the file
    stays as it was. Raises :class:`ConfigError` for an unknown project too.
    """
    name = workspace.project_name(project)
    file = workspace.project_files[name]
    path = workspace.root / file
    document, problems = read_document(path, file)
    if problems:
        raise ConfigError(problems)
    if not isinstance(document, CommentedMap):
        raise ConfigError(ConfigProblem(file, None, "", "the file is not a YAML mapping"))
    if value is None:
        if key in document:
            _remove(document, key)
    elif key in document:
        document[key] = _flow(value)
    else:
        after = [document_keys.index(k) for k in _AFTER if k in (document_keys := list(document))]
        position = max(after) + 1 if after else len(document)
        document.insert(position, key, _flow(value))
    text = dump_text(document)
    reloaded, problems = load_text(text, file)
    if not problems:
        _, problems = _parse(Project, reloaded, file, f'project "{name}"')
    if problems:
        raise ConfigError(problems)
    write_workspace_file(path, text)
    return path
