"""Templates: the model (Template → Tasks → Legs → mapping rows), the shipped P2C templates, and
loading a workspace's own templates."""

from integrator.templates.loader import (
    USER_TEMPLATE_DIR,
    TemplateEntry,
    list_templates,
    load_template,
    parse_template,
    shipped_template_texts,
)
from integrator.templates.model import (
    LEG_TITLES,
    Leg,
    LegName,
    System,
    Task,
    TaskKeys,
    Template,
    TemplateBody,
    describe_location,
)

__all__ = [
    "LEG_TITLES",
    "USER_TEMPLATE_DIR",
    "Leg",
    "LegName",
    "System",
    "Task",
    "TaskKeys",
    "Template",
    "TemplateBody",
    "TemplateEntry",
    "describe_location",
    "list_templates",
    "load_template",
    "parse_template",
    "shipped_template_texts",
]
