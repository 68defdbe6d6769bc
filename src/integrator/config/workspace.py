"""A workspace on disk: settings, connection sets, projects and the user's own templates.

``load_workspace`` reads every file and keeps what is valid, recording each problem (YAML
syntax, unknown keys, wrong types) with file and line; ``validate_workspace`` (see
:mod:`integrator.config.validate`) adds what only the systems' metadata can tell.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import make_url

from integrator.config.files import (
    CONNECTIONS_FILE,
    PROJECTS_DIR,
    SETTINGS_FILE,
    connections_text,
    make_workspace_folder,
    project_text,
    settings_text,
    template_text_from_project,
    write_workspace_file,
)
from integrator.config.models import ConnectionSet, ConnectionsFile, Project, WorkspaceSettings
from integrator.config.trust import check_discovered_workspace
from integrator.connectors.configuration import http_url_problem
from integrator.errors import ConfigError, ConfigProblem
from integrator.templates.loader import (
    USER_TEMPLATE_DIR,
    TemplateEntry,
    list_templates,
    shipped_template_texts,
)
from integrator.templates.model import describe_location
from integrator.templates.yamldoc import line_of, load_text, read_document, schema_problems

__all__ = [
    "HISTORY_FILE",
    "Workspace",
    "find_workspace_root",
    "init_workspace",
    "load_workspace",
    "nearest_workspace_root",
    "sandbox_url_problem",
    "save_project_as_template",
]

HISTORY_FILE = "history.db"


@dataclass
class Workspace:
    """A loaded workspace. Only valid parts are in ``settings``/``connection_sets``/``projects``;
    ``problems`` lists what could not be loaded, each with file and line."""

    root: Path
    settings: WorkspaceSettings
    connection_sets: dict[str, ConnectionSet]
    projects: dict[str, Project]
    #: project name → its file, relative to ``root`` (also for projects that failed to load)
    project_files: dict[str, str]
    #: file (relative to ``root``) → its parsed round-trip document, for line numbers
    documents: dict[str, Any]
    templates: list[TemplateEntry]
    problems: list[ConfigProblem] = field(default_factory=list)

    @property
    def history_database_url(self) -> str:
        """The history database's SQLAlchemy URL: the configured one, or ``history.db`` here."""
        configured = self.settings.history.database_url
        if configured is not None:
            return configured
        return f"sqlite:///{self.root / HISTORY_FILE}"

    def project_name(self, name: str) -> str:
        """The project ``name`` designates, tried in this order: the exact name, the name
        without regard to case, a unique prefix (``Accounts`` for ``Accounts (Sales to Fin and
        Ops)``), a unique part of the name. The first rule that matches decides, so ``Contacts
        to Contact`` is not ambiguous with ``Contacts to Customer``. Raises
        :class:`ConfigError` naming the candidates when several match, every project when none
        does."""
        names = list(self.project_files)
        if name in names:
            return name
        folded = name.casefold()
        rules = (
            lambda n: n == folded,
            lambda n: n.startswith(folded),
            lambda n: folded in n,
        )
        for rule in rules:
            matches = [n for n in names if rule(n.casefold())]
            if len(matches) == 1:
                return matches[0]
            if matches:
                candidates = "\n".join(f'  "{n}"' for n in matches)
                raise ConfigError(
                    f'"{name}" matches {len(matches)} projects; name one of them:\n{candidates}'
                )
        known = ", ".join(f'"{n}"' for n in names) or "none"
        raise ConfigError(f'no project named "{name}" in {self.root} (projects: {known})')

    def with_prerequisites(self, names: Sequence[str]) -> list[str]:
        """The projects ``names`` designate (see :meth:`project_name`) and, transitively, the
        projects that provide their prerequisites (``required_prior``), each once, requested
        ones first. Raises :class:`ConfigError` for a name that designates no project."""
        scope: list[str] = []
        todo = [self.project_name(n) for n in names]
        while todo:
            name = todo.pop(0)
            if name in scope:
                continue
            scope.append(name)
            project = self.projects.get(name)
            for template in project.required_prior if project is not None else ():
                todo.extend(self.projects_from_template(template))
        return scope

    def project(self, name: str) -> Project:
        """The loaded project ``name`` designates (see :meth:`project_name`).

        Raises :class:`ConfigError` when there is none or its file has problems.
        """
        resolved = self.project_name(name)
        project = self.projects.get(resolved)
        if project is None:
            file = self.project_files[resolved]
            raise ConfigError([p for p in self.problems if p.file == file])
        return project

    def connection_set(self, name: str) -> ConnectionSet:
        """The connection set called ``name``; raises :class:`ConfigError`."""
        try:
            return self.connection_sets[name]
        except KeyError:
            known = ", ".join(self.connection_sets) or "none"
            raise ConfigError(f'no connection set named "{name}" (known: {known})') from None

    def projects_from_template(self, template: str) -> list[str]:
        """Names of the projects created from ``template`` (or named like it)."""
        folded = template.casefold()
        return [
            name
            for name in self.project_files
            if name.casefold() == folded
            or (
                (project := self.projects.get(name)) is not None
                and project.template is not None
                and project.template.casefold() == folded
            )
        ]


def nearest_workspace_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the current one) holding
    ``integrator.yaml``, or ``None`` when there is none. Raises :class:`ConfigError` when the
    one found could have been planted or changed by another user (see
    :mod:`integrator.config.trust`)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).is_file():
            check_discovered_workspace(folder)
            return folder
    return None


def find_workspace_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the current one) holding
    ``integrator.yaml``, checked as :func:`nearest_workspace_root` checks it. Raises
    :class:`ConfigError` when there is none or it is not to be trusted."""
    found = nearest_workspace_root(start)
    if found is not None:
        return found
    here = (start or Path.cwd()).resolve()
    raise ConfigError(
        f"no workspace here: no {SETTINGS_FILE} in {here} or above it "
        "(create one with `integrator init WORKSPACE --sandbox URL`)"
    )


def _parse(
    model: type[BaseModel], document: Any, file: str, prefix: str
) -> tuple[Any, list[ConfigProblem]]:
    try:
        return model.model_validate({} if document is None else document), []
    except ValidationError as exc:
        return None, schema_problems(
            exc, document, file, lambda loc: describe_location(prefix, document, loc)
        )


def load_workspace(path: Path | str | None = None, *, strict: bool = True) -> Workspace:
    """Load the workspace at ``path`` (default: found from the current directory upwards).

    With ``strict`` a problem in any file raises :class:`ConfigError` listing them all; without
    it the problems are kept on the workspace (``validate_workspace`` reports them with the rest).
    Raises :class:`ConfigError` when ``path`` is not a workspace.
    """
    if path is None:
        root = find_workspace_root()
    else:
        root = Path(path).resolve()
        if not (root / SETTINGS_FILE).is_file():
            raise ConfigError(
                f"{root} is not a workspace: it has no {SETTINGS_FILE} "
                "(create one with `integrator init WORKSPACE --sandbox URL`)"
            )
    problems: list[ConfigProblem] = []
    documents: dict[str, Any] = {}

    def read(file: str) -> Any:
        document, found = read_document(root / file, file)
        problems.extend(found)
        documents[file] = document
        return document

    settings_doc = read(SETTINGS_FILE)
    settings, found = _parse(WorkspaceSettings, settings_doc, SETTINGS_FILE, "")
    problems.extend(found)
    if settings is not None and settings.distributed and not _postgres(settings):
        problems.append(_workers_without_postgres(settings_doc))

    connection_sets: dict[str, ConnectionSet] = {}
    if (root / CONNECTIONS_FILE).is_file():
        connections_doc = read(CONNECTIONS_FILE)
        if connections_doc is not None or not problems:
            parsed, found = _parse(ConnectionsFile, connections_doc, CONNECTIONS_FILE, "")
            problems.extend(found)
            if parsed is not None:
                connection_sets = dict(parsed.connection_sets)
    else:
        problems.append(ConfigProblem(CONNECTIONS_FILE, None, "", "the file is missing"))

    projects: dict[str, Project] = {}
    project_files: dict[str, str] = {}
    folder = root / PROJECTS_DIR
    for project_path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        name = project_path.stem
        file = f"{PROJECTS_DIR}/{project_path.name}"
        project_files[name] = file
        before = len(problems)
        document = read(file)
        if len(problems) == before:
            project, found = _parse(Project, document, file, f'project "{name}"')
            problems.extend(found)
            if project is not None:
                projects[name] = project
                if project.notify is not None and settings is not None and settings.smtp is None:
                    problems.append(_notify_without_smtp(document, file, name))

    templates = list_templates(root)
    for entry in templates:
        if not entry.shipped:
            problems.extend(entry.problems)
            documents[entry.file] = entry.document

    workspace = Workspace(
        root=root,
        settings=settings or WorkspaceSettings(),
        connection_sets=connection_sets,
        projects=projects,
        project_files=project_files,
        documents=documents,
        templates=templates,
        problems=problems,
    )
    if strict and problems:
        raise ConfigError(problems)
    return workspace


def _postgres(settings: WorkspaceSettings) -> bool:
    url = settings.history.database_url
    return url is not None and make_url(url).get_backend_name() == "postgresql"


def _workers_without_postgres(document: Any) -> ConfigProblem:
    """The problem of distributed mode on a history that is not PostgreSQL."""
    return ConfigProblem(
        SETTINGS_FILE,
        line_of(document, ("workers",)),
        "workers",
        "distributed mode (workers: queue: true) keeps its job queue in the history "
        "database, which must be PostgreSQL: set history: database_url: "
        "postgresql+psycopg://user@host/db, or remove workers:",
    )


def _notify_without_smtp(document: Any, file: str, name: str) -> ConfigProblem:
    """The problem of a project that asks for mail in a workspace with no mail server."""
    return ConfigProblem(
        file,
        line_of(document, ("notify",)),
        f'project "{name}": notify',
        f"notifications need a mail server: add settings.smtp (host, port, sender) to "
        f"{SETTINGS_FILE}, or remove notify:",
    )


def init_workspace(path: Path | str, sandbox_url: str, *, direct: bool = False) -> Path:
    """Create a workspace at ``path`` pointing at the sandbox at ``sandbox_url`` (kept as given).

    Refuses (:class:`ConfigError`, before writing anything) a URL :func:`sandbox_url_problem`
    finds wrong.
    Writes ``integrator.yaml``, ``connections.yaml`` (one connection set, ``default``) and one
    project per shipped template of the seed (Sales → CDS → F&O), named as the template. With
    ``direct`` the projects are the direct templates' (Sales → F&O) and the connection set has
    Sales and F&O only. Refuses (:class:`ConfigError`) when ``path`` already holds a workspace.
    Returns the workspace's root.
    """
    root = Path(path)
    if (root / SETTINGS_FILE).exists():
        raise ConfigError(f"{root} is already a workspace ({SETTINGS_FILE} exists)")
    if not sandbox_url.strip():
        raise ConfigError("--sandbox needs the sandbox's URL, e.g. http://127.0.0.1:8700")
    if (problem := sandbox_url_problem(sandbox_url)) is not None:
        raise ConfigError(f"--sandbox {problem}")
    files: dict[str, str] = {
        SETTINGS_FILE: settings_text(),
        CONNECTIONS_FILE: connections_text(sandbox_url, direct=direct),
    }
    for file_name, text in shipped_template_texts().items():
        document, problems = load_text(text, file_name)
        if problems or not isinstance(document, dict):
            raise ConfigError(problems or f"shipped template {file_name} is not a mapping")
        if _is_direct(document) != direct:
            continue
        name = str(document["name"])
        files[f"{PROJECTS_DIR}/{name}.yaml"] = project_text(text, name)
    for folder in (root, root / PROJECTS_DIR, root / USER_TEMPLATE_DIR):
        make_workspace_folder(folder)
    for relative, text in files.items():
        write_workspace_file(root / relative, text)
    return root.resolve()


def sandbox_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as a sandbox's base URL, or ``None``: it must be an absolute
    ``http(s)://host[:port]/...`` URL without whitespace or control characters (a line break
    would otherwise end up in connections.yaml)."""
    odd = next((c for c in url if c.isspace() or unicodedata.category(c)[0] in "CZ"), None)
    if odd is not None:
        return (
            f"{url!r} holds {odd!r}: a URL has no "
            "whitespace or control characters (percent-encode them, e.g. %20)"
        )
    return http_url_problem(url)


def _is_direct(template_document: dict[str, Any]) -> bool:
    """Whether every task of a template document goes straight to the destination (no CDS)."""
    tasks = template_document.get("tasks") or []
    return all(isinstance(t, dict) and t.get("cds_entity") is None for t in tasks)


def save_project_as_template(workspace: Workspace, project_name: str, template_name: str) -> Path:
    """ "Save as template": copy a project's tasks, mappings and prerequisites into a new
    workspace template called ``template_name``, comments kept. Returns the new file's path.

    Raises :class:`ConfigError` when the project is invalid or the name is taken or unusable.
    """
    name = template_name.strip()
    if not name or any(c in name for c in '/\\:*?"<>|') or name.startswith("."):
        raise ConfigError(f'"{template_name}" cannot be a template name (no / \\ : * ? " < > |)')
    taken = [e.name for e in workspace.templates if e.name.casefold() == name.casefold()]
    if taken:
        raise ConfigError(f'a template named "{taken[0]}" already exists')
    resolved = workspace.project_name(project_name)
    workspace.project(resolved)  # raises when the project has problems
    document = workspace.documents[workspace.project_files[resolved]]
    text = template_text_from_project(document, name)
    target = workspace.root / USER_TEMPLATE_DIR / f"{name}.yaml"
    if target.exists():
        raise ConfigError(f"{target} already exists")
    make_workspace_folder(target.parent)
    write_workspace_file(target, text)
    workspace.templates = list_templates(workspace.root)
    return target
