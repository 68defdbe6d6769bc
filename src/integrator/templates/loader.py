"""Finding and loading templates: the shipped P2C templates and a workspace's own.

Shipped templates live in the package (``integrator/templates/data/*.yaml``) and are read-only.
A workspace's templates (``<workspace>/templates/*.yaml``) are written by "Save as template".
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from integrator.errors import ConfigError, ConfigProblem
from integrator.templates.model import Template, describe_location
from integrator.templates.yamldoc import load_text, read_document, schema_problems

__all__ = [
    "USER_TEMPLATE_DIR",
    "TemplateEntry",
    "list_templates",
    "load_template",
    "parse_template",
    "shipped_template_texts",
]

#: where a workspace keeps its own templates, relative to its root
USER_TEMPLATE_DIR = "templates"


@dataclass(frozen=True)
class TemplateEntry:
    """A template found on disk (or in the package) and what became of loading it."""

    name: str
    file: str
    shipped: bool
    template: Template | None
    document: Any
    problems: tuple[ConfigProblem, ...]

    @property
    def read_only(self) -> bool:
        """Shipped templates cannot be changed; save a project as a new template instead."""
        return self.shipped


def parse_template(document: Any, file: str) -> tuple[Template | None, list[ConfigProblem]]:
    """Validate a parsed template document; problems carry ``file``, line and path."""
    name = document.get("name") if isinstance(document, dict) else None
    prefix = f'template "{name}"' if isinstance(name, str) else "template"
    try:
        return Template.model_validate(document), []
    except ValidationError as exc:
        return None, schema_problems(
            exc, document, file, lambda loc: describe_location(prefix, document, loc)
        )


def shipped_template_texts() -> dict[str, str]:
    """File name → text of each shipped template, sorted by file name."""
    folder = resources.files("integrator.templates").joinpath("data")
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }


def _entry(document: Any, problems: list[ConfigProblem], file: str, shipped: bool) -> TemplateEntry:
    template = None
    if not problems:
        template, problems = parse_template(document, file)
    name = template.name if template else Path(file).stem
    if template is None and isinstance(document, dict) and isinstance(document.get("name"), str):
        name = document["name"]
    return TemplateEntry(name, file, shipped, template, document, tuple(problems))


def list_templates(workspace_root: Path | None = None) -> list[TemplateEntry]:
    """Shipped templates, then the workspace's own (when ``workspace_root`` is given).

    Invalid files are listed with their problems rather than raising.
    """
    entries = []
    for file_name, text in shipped_template_texts().items():
        document, problems = load_text(text, f"<shipped>/{file_name}")
        entries.append(_entry(document, problems, f"<shipped>/{file_name}", True))
    if workspace_root is not None:
        folder = workspace_root / USER_TEMPLATE_DIR
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            file = f"{USER_TEMPLATE_DIR}/{path.name}"
            document, problems = read_document(path, file)
            entries.append(_entry(document, problems, file, False))
    return entries


def load_template(name: str, workspace_root: Path | None = None) -> Template:
    """The template called ``name`` (case-insensitive).

    Raises :class:`ConfigError` when there is none, or when its file is invalid.
    """
    entries = list_templates(workspace_root)
    for entry in entries:
        if entry.name.casefold() == name.casefold():
            if entry.template is None:
                raise ConfigError(list(entry.problems))
            return entry.template
    known = ", ".join(f'"{e.name}"' for e in entries)
    raise ConfigError(f'no template named "{name}" (known: {known})')
