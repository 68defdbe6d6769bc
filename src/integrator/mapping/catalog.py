"""What each transform takes and how a mapping row writes it, read from the registry.

The arguments come from each transform's parameter model, the one
:func:`~integrator.mapping.registry.build_transform` validates a row's parameters with, so
``integrator transforms`` cannot drift from what validation accepts. :func:`describe_step`
and :func:`template_value` say a row's chain in the words of Data Integrator's mapping grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from integrator.mapping.registry import Transform, registered_transforms
from integrator.mapping.rows import TransformSpec

__all__ = [
    "ArgumentDoc",
    "TransformDoc",
    "describe_chain",
    "describe_step",
    "template_value",
    "transform_catalog",
]


@dataclass(frozen=True)
class ArgumentDoc:
    """One argument of a transform, as a mapping row spells it."""

    name: str
    #: in words: ``text``, ``integer > 0``, ``list of text (at least 1)``, ``map of text → ...``
    type: str
    required: bool
    #: the value used when the row leaves the argument out (``None`` when required or none)
    default: Any
    description: str

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` form: name, type, required, default, description."""
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "default": self.default,
            "description": self.description,
        }


@dataclass(frozen=True)
class TransformDoc:
    """A registered transform: its name, what it does, its arguments and a YAML example."""

    name: str
    summary: str
    arguments: tuple[ArgumentDoc, ...]
    #: one step of a ``transforms:`` list, as YAML (``{type: Default, value: USA}``)
    example: str

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` form: name, summary, arguments, example."""
        return {
            "name": self.name,
            "summary": self.summary,
            "arguments": [argument.as_dict() for argument in self.arguments],
            "example": self.example,
        }


def transform_catalog() -> list[TransformDoc]:
    """Every registered transform, sorted by name, with its arguments and example."""
    return [_document(cls) for cls in registered_transforms()]


def _document(cls: type[Transform]) -> TransformDoc:
    schema = cls.model_json_schema()
    definitions = schema.get("$defs", {})
    properties: dict[str, Any] = schema.get("properties", {})
    arguments = []
    for name, field in cls.model_fields.items():
        required = field.is_required()
        arguments.append(
            ArgumentDoc(
                name=field.alias or name,
                type=_type_words(properties.get(field.alias or name, {}), definitions),
                required=required,
                default=None if required else field.get_default(call_default_factory=True),
                description=field.description or "",
            )
        )
    return TransformDoc(
        name=cls.type_name,
        summary=_first_sentence(cls.__doc__ or ""),
        arguments=tuple(arguments),
        example=cls.example,
    )


def _first_sentence(doc: str) -> str:
    paragraph = doc.strip().split("\n\n", 1)[0].replace("``", "")
    return " ".join(paragraph.split())


_SCALARS = {"string": "text", "integer": "integer", "number": "number", "boolean": "boolean"}


def _type_words(schema: dict[str, Any], definitions: dict[str, Any]) -> str:
    if "$ref" in schema:
        return _type_words(definitions.get(schema["$ref"].rsplit("/", 1)[-1], {}), definitions)
    if "anyOf" in schema:
        parts = [_type_words(s, definitions) for s in schema["anyOf"] if s.get("type") != "null"]
        if set(parts) == {"text", "integer", "number", "boolean"}:
            return "text, number or boolean"
        return " | ".join(parts)
    kind = schema.get("type")
    if kind == "array":
        words = f"list of {_type_words(schema.get('items', {}), definitions)}"
        least = schema.get("minItems")
        return f"{words} (at least {least})" if least else words
    if kind == "object":
        values = _type_words(schema.get("additionalProperties", {}), definitions) or "any"
        words = f"map of text → {values}"
        least = schema.get("minProperties")
        return f"{words} (at least {least} entry)" if least == 1 else words
    words = _SCALARS.get(str(kind), "")
    for key, sign in (("exclusiveMinimum", ">"), ("minimum", "≥")):
        if key in schema:
            words += f" {sign} {schema[key]}"
    if schema.get("minLength") == 1:
        words += " (not empty)"
    return words


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, str) and (not value or value != value.strip()):
        return repr(value)
    return str(value)


def describe_step(spec: TransformSpec) -> str:
    """One step of a chain in a few words: ``Default ORG001``, ``ValueMap 1 → DecisionMaker``,
    ``Truncate length: 60``. Works for transforms the registry does not know, too."""
    params = spec.params
    if spec.type.casefold() == "default" and set(params) == {"value"}:
        return f"Default {_flow(params['value'])}"
    if spec.type.casefold() == "valuemap" and isinstance(params.get("map"), dict):
        pairs = ", ".join(f"{_flow(k)} → {_flow(v)}" for k, v in params["map"].items())
        default = params.get("default")
        rest = f"; otherwise {_flow(default)}" if default is not None else ""
        return f"ValueMap {pairs}{rest}"
    if not params:
        return spec.type
    return f"{spec.type} " + ", ".join(f"{k}: {_flow(v)}" for k, v in params.items())


def describe_chain(specs: Sequence[TransformSpec]) -> str:
    """A row's transform chain in order: ``CountryRegionCode → Default USA``."""
    return " → ".join(describe_step(spec) for spec in specs)


def template_value(specs: Sequence[TransformSpec]) -> Any:
    """The row's template value: what its last ``Default`` writes (``None`` when it has none)."""
    for spec in reversed(specs):
        if spec.type.casefold() == "default" and "value" in spec.params:
            return spec.params["value"]
    return None
