"""Edits of a project file as a person would make them: one key changed, everything else (comments,
order, layout) kept. The command line (``integrator schedule``) and the portal both edit here."""

from __future__ import annotations

import difflib
import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from integrator.config.files import write_workspace_file
from integrator.config.models import Project
from integrator.config.workspace import Workspace, _parse
from integrator.errors import ConfigError, ConfigProblem, IntegratorError
from integrator.templates.yamldoc import dump_text, load_text, read_document

__all__ = [
    "EDIT_LOCK",
    "EditConflict",
    "check_version",
    "project_version",
    "read_project_document",
    "set_project_key",
]

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


#: the project files' texts by version, as recently read: what a refused edit is compared with
_SEEN: OrderedDict[str, str] = OrderedDict()
_SEEN_LIMIT = 256
_SEEN_LOCK = threading.Lock()
#: held from an edit's version check to its write: two saves in one process never interleave
EDIT_LOCK = threading.RLock()


class EditConflict(IntegratorError):
    """The file changed since the editor read it (another browser saved, or someone edited
    the file): nothing was written. ``diff`` shows what changed since (a unified diff, empty
    when the version read is no longer known); ``current_version`` is the file's version now."""

    exit_code = 2
    category = "configuration"

    def __init__(self, file: str, current_version: str, diff: str) -> None:
        super().__init__(
            f"{file} changed since you opened it (someone else saved, or the file was edited); "
            "nothing was written: reload to see the change, then make your edit again"
        )
        self.file = file
        self.current_version = current_version
        self.diff = diff


def _version_of(text: str) -> str:
    version = hashlib.sha256(text.encode()).hexdigest()[:16]
    with _SEEN_LOCK:
        _SEEN[version] = text
        _SEEN.move_to_end(version)
        while len(_SEEN) > _SEEN_LIMIT:
            _SEEN.popitem(last=False)
    return version


def project_version(workspace: Workspace, project: str) -> str:
    """The version of ``project``'s file as it is on disk now (a hash of its text): an editor
    keeps it and hands it back with its edit, which is refused if the file changed since."""
    name = workspace.project_name(project)
    path = workspace.root / workspace.project_files[name]
    return _version_of(path.read_text(encoding="utf-8"))


def check_version(workspace: Workspace, project: str, expected_version: str | None) -> None:
    """Raise :class:`EditConflict` when ``expected_version`` is given and ``project``'s file
    is no longer at it."""
    if expected_version is None:
        return
    name = workspace.project_name(project)
    file = workspace.project_files[name]
    text = (workspace.root / file).read_text(encoding="utf-8")
    current = _version_of(text)
    if current == expected_version:
        return
    with _SEEN_LOCK:
        before = _SEEN.get(expected_version)
    diff = (
        ""
        if before is None
        else "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{file} (when you opened it)",
                tofile=f"{file} (now)",
            )
        )
    )
    raise EditConflict(file, current, diff)


def read_project_document(
    workspace: Workspace, project: str
) -> tuple[str, str, Path, CommentedMap]:
    """``project``'s name, file (relative to the workspace), path and round-trip document, read
    from disk now. Raises :class:`ConfigError` for an unknown project, a file that does not
    load, or one that is not a YAML mapping."""
    name = workspace.project_name(project)
    file = workspace.project_files[name]
    path = workspace.root / file
    document, problems = read_document(path, file)
    if problems:
        raise ConfigError(problems)
    if not isinstance(document, CommentedMap):
        raise ConfigError(ConfigProblem(file, None, "", "the file is not a YAML mapping"))
    return name, file, path, document


def set_project_key(
    workspace: Workspace,
    project: str,
    key: str,
    value: object | None,
    *,
    expected_version: str | None = None,
) -> Path:
    """Set the top-level ``key`` of ``project``'s file to ``value`` (``None``: remove the key),
    keeping every comment and the order and layout of everything else; returns the file.

    The file is read again from disk, and the result is validated as a project before anything
    is written: a bad value raises :class:`ConfigError` naming the file and line, and the file
    stays as it was. Raises :class:`ConfigError` for an unknown project too, and
    :class:`EditConflict` when ``expected_version`` is given and the file is no longer at it.
    """
    with EDIT_LOCK:  # the version check and the write, one edit at a time
        check_version(workspace, project, expected_version)
        name, file, path, document = read_project_document(workspace, project)
        if value is None:
            if key in document:
                _remove(document, key)
        elif key in document:
            document[key] = _flow(value)
        else:
            after = [
                document_keys.index(k) for k in _AFTER if k in (document_keys := list(document))
            ]
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
