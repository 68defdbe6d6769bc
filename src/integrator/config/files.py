"""The text of a new workspace's files: readable YAML with comments saying what each part does."""

from __future__ import annotations

import json
import os
from pathlib import Path

from integrator.templates.yamldoc import dump_text, load_text

__all__ = [
    "CONNECTIONS_FILE",
    "PROJECTS_DIR",
    "SETTINGS_FILE",
    "connections_text",
    "make_workspace_folder",
    "project_text",
    "settings_text",
    "template_text_from_project",
    "write_workspace_file",
]

SETTINGS_FILE = "integrator.yaml"
CONNECTIONS_FILE = "connections.yaml"
PROJECTS_DIR = "projects"

SANDBOX_PATHS = {
    "sales": "/sales/api/data/v9.2/",
    "cds": "/cds/api/data/v9.2/",
    "finops": "/finops/data/",
}


def write_workspace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` writable by its owner only (0644 at most, whatever the
    umask), so a workspace integrator writes is one a search from below it will trust.

    The file is replaced whole (a temporary file beside it, then a rename): a reader (``serve``
    reloading the workspace, a run starting) sees the old text or the new, never half of it,
    and a crash mid-write leaves the old file."""
    try:
        mode = path.stat().st_mode & 0o755
    except FileNotFoundError:
        mode = 0o644
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def make_workspace_folder(path: Path) -> None:
    """Create the folder ``path`` (and its parents) if missing, writable by its owner only."""
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o755, exist_ok=True)


def _quote(text: str) -> str:
    # a JSON string is a valid double-quoted YAML scalar
    return json.dumps(text, ensure_ascii=False)


def _in_comment(text: str) -> str:
    # every line break and control character escaped, so nothing can end the comment
    return json.dumps(text, ensure_ascii=True)[1:-1]


def settings_text() -> str:
    """``integrator.yaml`` of a new workspace."""
    return """\
# integrator workspace settings. This file marks the workspace's root folder.
version: 1
history:
  # Execution history: a SQLite file in this folder (history.db) unless you name a database,
  # e.g. postgresql+psycopg://integrator@db.example.com/integrator
  database_url: null
  # database_password: {env: INTEGRATOR_DB_PASSWORD}
  # Runs older than this are purged (Data Integrator kept 45 days).
  retention_days: 45
"""


def connections_text(sandbox_url: str, *, direct: bool = False) -> str:
    """``connections.yaml`` with one connection set pointing at the sandbox at ``sandbox_url``:
    Sales, CDS and F&O, or with ``direct`` Sales and F&O only (the direct templates)."""
    base = sandbox_url.rstrip("/")
    url = {system: _quote(base + path) for system, path in SANDBOX_PATHS.items()}
    shown = _in_comment(sandbox_url)
    if direct:
        comment = (
            f"# Points at the sandbox at {shown}. Direct: Sales (a Dataverse environment)"
            " straight to\n  # F&O, no CDS in between."
        )
        cds = ""
        mapping = "# The F&O legal entity (dataAreaId) the projects write to"
        organization = ""
    else:
        comment = f"# Points at the sandbox at {shown}"
        cds = f"""
    cds:
      kind: dataverse
      url: {url["cds"]}
      auth: {{type: none}}"""
        mapping = (
            "# CDS organization ↔ F&O legal entity (dataAreaId): the values of the fields each\n"
            "    # template binds to them (its tasks' `bindings:`)"
        )
        organization = "\n      cds_organization: ORG001"
    return f"""\
# Connection sets: the systems a project talks to, the organization mapping and the
# integration keys. Secrets are never written here: name where they are instead,
#   auth: {{type: client_credentials, tenant_id: ..., client_id: ...,
#          client_secret: {{env: SALES_CLIENT_SECRET}}}}
# or a static token: auth: {{type: token, token: {{file: secrets/sales.token}}}}
# A relative file is read inside this workspace (chmod 600 it); an absolute path is read as given.
connection_sets:
  {comment}
  default:
    sales:
      kind: dataverse
      url: {url["sales"]}
      auth: {{type: none}}{cds}
    finops:
      kind: finops
      url: {url["finops"]}
      auth: {{type: none}}
    {mapping}
    organization_mapping:{organization}
      finops_legal_entity: USMF
    # The business key of each entity, so lookups are written as business values, not GUIDs.
    integration_keys:
      - accounts.accountnumber
      - contacts.msdynce_contactnumber
"""


def _body_without_header(text: str, drop_keys: tuple[str, ...]) -> str:
    """The document below its leading comment block, without the top-level ``drop_keys``."""
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and (lines[start].startswith("#") or not lines[start].strip()):
        start += 1
    kept: list[str] = []
    skipping = False
    for line in lines[start:]:
        top_level = bool(line.strip()) and not line[0].isspace() and not line.startswith("#")
        if top_level:
            skipping = line.split(":", 1)[0] in drop_keys
        if not skipping:
            kept.append(line)
    return "".join(kept)


def project_text(template_text: str, template_name: str, connection_set: str = "default") -> str:
    """A project file copied from a template's text, comments kept."""
    body = _body_without_header(template_text, ("name",))
    return f"""\
# A project: a copy of the template named below, bound to a connection set. Everything here is
# yours to edit: mapping rows (add, change, remove), defaults, value maps and the source filter.
# `integrator run` validates the whole project against the systems before it writes anything.
template: {_quote(template_name)}
connection_set: {_quote(connection_set)}
# schedule: {{every: 15, unit: minutes}}
{body}"""


def template_text_from_project(project_document: object, template_name: str) -> str:
    """A workspace template's text from a project's parsed document, comments kept."""
    body = _body_without_header(
        dump_text(project_document), ("template", "connection_set", "schedule", "notify")
    )
    text = f"""\
# A template saved from a project ("Save as template"). New projects can start from it.
name: {_quote(template_name)}
{body}"""
    load_text(text, "<new template>")  # fail loudly here rather than on the next load
    return text
