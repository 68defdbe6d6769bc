"""The task list of a project file edited as a person would edit it: the portal's mapping page
hands over the whole ``tasks:`` list as it wants it, and only what differs is rewritten.

The file's text is patched line by line rather than re-dumped: every unchanged task, row,
comment and blank line stays byte for byte. Tasks are matched by ``name`` and rows by
``destination`` (the n-th row of a destination with the n-th), not by position, so removing a
row removes its lines only. A changed value of a block-style task or row rewrites that key's
lines; a changed flow-style row (``- {destination: X, source: Y}``) is rewritten whole, in
flow style; a new row is added in flow style after its predecessor. When the text cannot be
patched (items reordered, a layout this module does not know), the task list is written anew
by ruamel, comments outside it kept.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarbool import ScalarBoolean

from integrator.config.edit import EDIT_LOCK, check_version, read_project_document
from integrator.config.files import write_workspace_file
from integrator.config.models import Project
from integrator.config.workspace import Workspace, _parse
from integrator.errors import ConfigError, ConfigProblem
from integrator.templates.yamldoc import dump_text, load_text, round_trip_yaml

__all__ = ["ProposedTasks", "plain", "propose_project_tasks", "update_project_tasks"]


def plain(value: Any) -> Any:
    """``value`` (a ruamel node) as plain JSON-like Python: dicts, lists, str, int, float,
    bool, ``None`` (dates as ISO text)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, ScalarBoolean | bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class _CannotPatch(Exception):
    """The text has a layout the line patcher does not handle: write the list anew."""


def _render(value: Any, indent: int) -> list[str]:
    """``value`` dumped as YAML (on long lines), every line indented by ``indent``."""
    yaml = round_trip_yaml()
    yaml.width = 4096
    buffer = io.StringIO()
    yaml.dump(value, buffer)
    text = textwrap.dedent(buffer.getvalue())
    return [(" " * indent + line) if line.strip() else line for line in text.splitlines(True)]


def _flow(value: Any) -> Any:
    """``value`` as ruamel nodes written on one line."""
    if isinstance(value, dict):
        node = CommentedMap((k, _flow(v)) for k, v in value.items())
        node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq(_flow(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value


def _block(value: Any) -> Any:
    """``value`` laid out as the shipped templates are: mappings in block style, lists of
    mappings (tasks, rows) as block lists of one-line rows, other lists on one line."""
    if isinstance(value, dict):
        return CommentedMap((k, _block(v)) for k, v in value.items())
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return CommentedSeq(_flow(v) for v in value)
        return _flow(value)
    return value


def _is_flow(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and bool(node.fa.flow_style())


def _identity(item: Any) -> Any:
    if isinstance(item, Mapping):
        return item.get("name", item.get("destination"))
    return None


def _keyed(items: Sequence[Any]) -> list[tuple[Any, int] | None]:
    """Each item's identity with its occurrence (``None`` when it has none)."""
    seen: dict[Any, int] = {}
    keys: list[tuple[Any, int] | None] = []
    for item in items:
        ident = _identity(item)
        if ident is None or not isinstance(ident, str):
            keys.append(None)
            continue
        seen[ident] = seen.get(ident, 0) + 1
        keys.append((ident, seen[ident]))
    return keys


def _increasing(values: Sequence[int]) -> set[int]:
    """The values of a longest strictly increasing subsequence of ``values``."""
    best: list[list[int]] = []  # best[k]: the run of length k + 1 ending lowest so far
    for value in values:
        low, high = 0, len(best)
        while low < high:
            middle = (low + high) // 2
            if best[middle][-1] < value:
                low = middle + 1
            else:
                high = middle
        run = [*(best[low - 1] if low else []), value]
        if low == len(best):
            best.append(run)
        else:
            best[low] = run
    return set(best[-1]) if best else set()


@dataclass
class _Edit:
    start: int
    end: int
    lines: list[str]
    order: int


class _Patch:
    """Line edits of one text, applied at once."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        self.edits: list[_Edit] = []

    def _add(self, start: int, end: int, lines: list[str]) -> None:
        self.edits.append(_Edit(start, end, lines, len(self.edits)))

    def _indent(self, line: int) -> int:
        text = self.lines[line]
        return len(text) - len(text.lstrip(" "))

    def _end(self, start: int, column: int) -> int:
        """The line after the last one of the node starting at ``start`` whose content is
        indented deeper than ``column`` (full-line comments and blank lines after it are
        not the node's: they stay where they are)."""
        end = start + 1
        last = start + 1
        while end < len(self.lines):
            stripped = self.lines[end].strip()
            if stripped and self._indent(end) <= column:
                break
            end += 1
            if stripped and not stripped.startswith("#"):
                last = end
        return last

    def key_span(self, mapping: CommentedMap, key: Any) -> tuple[int, int, int]:
        line, column = mapping.lc.key(key)
        return line, self._end(line, column), column

    def item_span(self, seq: CommentedSeq, index: int) -> tuple[int, int, int]:
        line, _ = seq.lc.item(index)
        dash = self._indent(line)
        if not self.lines[line][dash:].startswith("- "):
            raise _CannotPatch(f"line {line + 1}: an item not on its dash's line")
        return line, self._end(line, dash), dash

    def replace_lines(self, start: int, end: int, column: int, lines: list[str]) -> None:
        """Replace lines ``start``..``end``; the first line keeps what precedes ``column``
        (a ``- `` when the key is the first of a list item)."""
        if lines:
            first = self.lines[start][:column] + lines[0][column:]
            lines = [first, *lines[1:]]
        self._add(start, end, lines)

    def insert(self, at: int, lines: list[str]) -> None:
        self._add(at, at, lines)

    def text(self) -> str:
        out: list[str] = []
        cursor = 0
        for edit in sorted(self.edits, key=lambda e: (e.start, e.end != e.start, e.order)):
            if edit.start < cursor:
                raise _CannotPatch("overlapping edits")
            out.extend(self.lines[cursor : edit.start])
            out.extend(edit.lines)
            cursor = edit.end
        out.extend(self.lines[cursor:])
        return "".join(out)

    # -- merging ------------------------------------------------------------------------------

    def merge_mapping(self, node: CommentedMap, new: Mapping[str, Any]) -> None:
        keys = list(node)
        for key in keys:
            if key not in new:
                if key == keys[0]:
                    raise _CannotPatch("the first key of a mapping removed")
                start, end, _ = self.key_span(node, key)
                self._add(start, end, [])
            elif plain(node[key]) != new[key]:
                self.merge_key(node, key, new[key])
        added = [key for key in new if key not in node]
        if added:
            if not keys:
                raise _CannotPatch("an empty mapping")
            _, end, column = self.key_span(node, keys[-1])
            self.insert(end, _render(_block({k: new[k] for k in added}), column))

    def merge_key(self, node: CommentedMap, key: Any, value: Any) -> None:
        child = node[key]
        start, end, column = self.key_span(node, key)
        if (
            isinstance(child, CommentedMap)
            and not _is_flow(child)
            and isinstance(value, dict)
            and value  # an empty mapping is written {}
        ):
            self.merge_mapping(child, value)
            return
        if (
            isinstance(child, CommentedSeq)
            and not _is_flow(child)
            and isinstance(value, list)
            and value
            and all(isinstance(v, dict) for v in value)
            and all(isinstance(v, CommentedMap) for v in child)
        ):
            self.merge_seq(child, value)
            return
        like_flow = not isinstance(child, CommentedMap | CommentedSeq) or _is_flow(child)
        styled = _flow(value) if like_flow else _block(value)
        self.replace_lines(start, end, column, _render({key: styled}, column))

    def merge_seq(self, seq: CommentedSeq, new: Sequence[Mapping[str, Any]]) -> None:
        old_keys = _keyed(seq)
        new_keys = _keyed(new)
        found = {key: i for i, key in enumerate(old_keys) if key is not None}
        # items that moved are removed where they were and written anew where they are now;
        # the longest run still in the old order stays in place
        staying = _increasing([found[key] for key in new_keys if key in found])
        position = {key: i for key, i in found.items() if i in staying}
        wanted = set(position)
        for index, key in enumerate(old_keys):
            if key is None or key not in wanted:
                start, end, _ = self.item_span(seq, index)
                self._add(start, end, [])
        after: int | None = None  # the line after the last kept item so far
        for key, item in zip(new_keys, new, strict=True):
            if key is not None and key in position:
                index = position[key]
                old = seq[index]
                start, end, dash = self.item_span(seq, index)
                if plain(old) != item:
                    if _is_flow(old):
                        self.replace_lines(start, end, dash, _render([_flow(dict(item))], dash))
                    else:
                        self.merge_mapping(old, item)
                after = end
                continue
            if after is None:
                if not len(seq):
                    raise _CannotPatch("an empty list")
                at, _, dash = self.item_span(seq, 0)
            else:
                at, dash = after, self.item_span(seq, 0)[2]
            is_task = "name" in item
            styled = _block(dict(item)) if is_task else _flow(dict(item))
            self.insert(at, _render([styled], dash))


@dataclass(frozen=True)
class ProposedTasks:
    """A project file as it would be with a new task list: its ``text`` and parsed
    ``document`` (for line numbers), and the ``project`` model when it is valid."""

    file: str
    path: Path
    text: str
    document: Any
    project: Project | None
    problems: list[ConfigProblem]

    def workspace(self, workspace: Workspace, name: str) -> Workspace:
        """``workspace`` as it would be with this file written (for validation against the
        systems' metadata without writing)."""
        projects = dict(workspace.projects)
        if self.project is not None:
            projects[name] = self.project
        return replace(
            workspace,
            projects=projects,
            documents={**workspace.documents, self.file: self.document},
            problems=[*(p for p in workspace.problems if p.file != self.file), *self.problems],
        )


def _tasks_text(document: CommentedMap, text: str, tasks: list[dict[str, Any]]) -> str:
    """``text`` with its ``tasks:`` list made ``tasks``, patched in place when it can be."""
    try:
        patch = _Patch(text)
        if "tasks" not in document:
            raise _CannotPatch("no tasks key")
        patch.merge_key(document, "tasks", tasks)
        patched = patch.text()
        reloaded, problems = load_text(patched, "<patched>")
        if problems or plain(reloaded.get("tasks")) != tasks:
            raise _CannotPatch("the patched text does not read back as asked")
        rest = {k: v for k, v in plain(reloaded).items() if k != "tasks"}
        if rest != {k: v for k, v in plain(document).items() if k != "tasks"}:
            raise _CannotPatch("the patched text changed another key")
        return patched
    except _CannotPatch:
        document["tasks"] = _block(tasks)
        return dump_text(document)


def propose_project_tasks(
    workspace: Workspace, project: str, tasks: list[dict[str, Any]]
) -> ProposedTasks:
    """``project``'s file as it would be with ``tasks`` as its task list (read from disk now;
    nothing is written), checked as a project: ``problems`` hold each one with file, line
    and path. Raises :class:`ConfigError` for an unknown project or a file that does not read
    as a YAML mapping."""
    name, file, path, document = read_project_document(workspace, project)
    text = path.read_text(encoding="utf-8")
    new_text = _tasks_text(document, text, [plain(t) for t in tasks])
    reloaded, problems = load_text(new_text, file)
    model: Project | None = None
    if not problems:
        model, problems = _parse(Project, reloaded, file, f'project "{name}"')
    return ProposedTasks(file, path, new_text, reloaded, model, list(problems))


def update_project_tasks(
    workspace: Workspace,
    project: str,
    tasks: list[dict[str, Any]],
    *,
    expected_version: str | None,
    check: Callable[[ProposedTasks], Sequence[ConfigProblem]] | None = None,
) -> Path:
    """Make ``tasks`` (dicts with the keys the YAML has) the task list of ``project``'s file,
    keeping comments, key order and the layout of every unchanged task and row (see the
    module's docstring); returns the file.

    Validated as a project before anything is written: a problem raises
    :class:`ConfigError` with each one (file, line, path) and the file stays as it was.
    Raises :class:`EditConflict` when ``expected_version`` is given and the file is no
    longer at it. ``check``, when given, checks the valid proposal further (against the
    systems' metadata) while the edit lock is held: what it returns is refused the same way."""
    with EDIT_LOCK:
        check_version(workspace, project, expected_version)
        proposed = propose_project_tasks(workspace, project, tasks)
        problems = proposed.problems or (list(check(proposed)) if check is not None else [])
        if problems:
            raise ConfigError(problems)
        write_workspace_file(proposed.path, proposed.text)
        return proposed.path
