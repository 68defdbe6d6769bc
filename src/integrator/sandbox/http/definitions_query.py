"""Query options on table definitions: ``$select``, ``$filter`` and ``$expand`` (with nested
``$select``/``$filter``), checked against the metadata entity types as Dataverse checks them.

Rules (``powerapps-docs/developer/data-platform/webapi/query-metadata-web-api.md``):

- ``$select`` names properties of the type addressed; ``MetadataId`` is always returned;
- ``$filter`` works on primitive and enum properties, and on the ``Value`` of managed
  properties (``RequiredLevel/Value eq Microsoft.Dynamics.CRM.AttributeRequiredLevel'...'``);
- no paging: every match comes back in one response. ``$top``, ``$skip``, ``$orderby``,
  ``$count`` and ``$search`` are refused here (ours: Microsoft documents none of them for
  definitions);
- a property the type does not have is a 400 "Could not find a property named ..." (OData's
  message, which Dataverse returns).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from integrator.errors import FilterSyntaxError
from integrator.odata.ast import Expr, Field, Literal
from integrator.odata.filter import Predicate, compile_filter, parse_filter, referenced_fields
from integrator.sandbox.http.errors import BAD_REQUEST, INVALID_FILTER, INVALID_PROPERTY, ODataError

__all__ = [
    "CRM",
    "DefinitionOptions",
    "matches",
    "parse_definition_options",
    "project",
    "unknown_property",
]

CRM = "Microsoft.Dynamics.CRM"
_REFUSED = ("$top", "$skip", "$orderby", "$count", "$search", "$apply", "$skiptoken")
#: enum-typed properties of the definitions and their enum types (for literal checks)
_ENUM_TYPES = {
    "AttributeType": f"{CRM}.AttributeTypeCode",
    "RequiredLevel/Value": f"{CRM}.AttributeRequiredLevel",
    "OwnershipType": f"{CRM}.OwnershipTypes",
    "EntityKeyIndexStatus": f"{CRM}.EntityKeyIndexStatus",
    "OptionSetType": f"{CRM}.OptionSetType",
}


def unknown_property(name: str, type_name: str) -> ODataError:
    """Dataverse's 400 for a property that ``type_name`` does not have."""
    return ODataError(
        400,
        INVALID_PROPERTY,
        f"Could not find a property named '{name}' on type '{CRM}.{type_name}'.",
    )


@dataclass
class DefinitionOptions:
    """The parsed options of one level: selected properties, filter, expansions."""

    select: list[str] | None = None
    filter: Expr | None = None
    expand: dict[str, DefinitionOptions] = field(default_factory=dict)

    def context_part(self) -> str:
        """``(LogicalName,Attributes(LogicalName))`` for the context URL, or ``""``."""
        parts = list(self.select or [])
        for name, nested in self.expand.items():
            parts.append(f"{name}({nested.context_part()[1:-1]})")
        return f"({','.join(parts)})" if parts else ""


def _split(text: str, separators: str) -> list[str]:
    parts: list[str] = []
    depth, in_string, start = 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'":
            in_string = not in_string
        elif in_string:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch in separators and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _check_enum_literals(expr: Any) -> None:
    """400 when an enum literal of one enum type is compared with a property of another."""
    if isinstance(expr, (list, tuple)):
        for item in expr:
            _check_enum_literals(item)
        return
    if not dataclasses.is_dataclass(expr):
        return
    values = [getattr(expr, f.name) for f in dataclasses.fields(expr)]
    fields_ = [v for v in values if isinstance(v, Field)]
    literals = [v for v in values if isinstance(v, Literal) and v.enum_type]
    for prop in fields_:
        expected = _ENUM_TYPES.get(prop.path)
        for literal in literals:
            if (
                expected
                and literal.enum_type
                and literal.enum_type.replace("mscrm.", f"{CRM}.") != expected
            ):
                raise ODataError(
                    400,
                    INVALID_FILTER,
                    "A binary operator with incompatible types was detected. Found operand "
                    f"types '{expected}' and '{literal.enum_type}' for operator kind 'Equal'.",
                )
    for value in values:
        _check_enum_literals(value)


def _parse_filter(text: str, properties: Mapping[str, Any], type_name: str) -> Expr:
    try:
        expr = parse_filter(text)
    except FilterSyntaxError as exc:
        raise ODataError(
            400, INVALID_FILTER, f"Invalid $filter at position {exc.position}: {exc.reason}"
        ) from None
    for path in sorted(referenced_fields(expr)):
        head, _, rest = path.partition("/")
        if head not in properties:
            raise unknown_property(head, type_name)
        if rest and not (isinstance(properties[head], dict) and "Value" in properties[head]):
            # Label and other complex values cannot be filtered on (only managed properties)
            raise ODataError(
                400,
                INVALID_FILTER,
                f"The property '{head}' of type '{CRM}.{type_name}' cannot be used in $filter.",
            )
    _check_enum_literals(expr)
    return expr


def parse_definition_options(
    params: Iterable[tuple[str, str]],
    properties: Mapping[str, Any],
    type_name: str,
    navigations: Mapping[str, tuple[Mapping[str, Any], str]],
) -> DefinitionOptions:
    """Parse ``params`` for a resource of ``type_name`` with ``properties`` (name → sample value)
    and ``navigations`` (name → (target properties, target type name)); 400 on anything wrong."""
    options = DefinitionOptions()
    seen: set[str] = set()
    for name, value in params:
        if not name.startswith("$"):
            continue
        if name in _REFUSED:
            raise ODataError(
                400,
                BAD_REQUEST,
                f"The query parameter {name} is not supported on table definitions",
            )
        if name in seen:
            raise ODataError(400, BAD_REQUEST, f"The query option '{name}' is given twice")
        seen.add(name)
        if name == "$select":
            selected = _split(value, ",")
            for prop in selected:
                if prop not in properties and prop not in navigations:
                    raise unknown_property(prop, type_name)
                if prop in navigations:
                    raise ODataError(
                        400,
                        BAD_REQUEST,
                        f"The navigation property '{prop}' cannot be selected: use $expand",
                    )
            options.select = selected
        elif name == "$filter":
            options.filter = _parse_filter(value, properties, type_name)
        elif name == "$expand":
            for item in _split(value, ","):
                nav, _, inner = item.partition("(")
                nav = nav.strip()
                if nav not in navigations:
                    raise unknown_property(nav, type_name)
                target_props, target_type = navigations[nav]
                inner_params = [
                    tuple(p.split("=", 1)) for p in _split(inner.rstrip(")"), ";") if "=" in p
                ]
                options.expand[nav] = parse_definition_options(
                    [(k.strip(), v) for k, v in inner_params],
                    target_props,
                    target_type,
                    {},
                )
        else:
            raise ODataError(400, BAD_REQUEST, f"The query option '{name}' is not supported")
    return options


def _flat(record: Mapping[str, Any]) -> dict[str, Any]:
    flat = dict(record)
    for name, value in record.items():
        if isinstance(value, dict) and "Value" in value:
            flat[f"{name}/Value"] = value["Value"]
    return flat


@functools.lru_cache(maxsize=64)
def _compiled(expr: Expr) -> Predicate:
    # a request's filter is tried on every definition: compiled once, not walked per record
    return compile_filter(expr)


def matches(expr: Expr | None, record: Mapping[str, Any]) -> bool:
    """Whether ``record`` satisfies ``expr`` (``None`` matches everything)."""
    return expr is None or _compiled(expr)(_flat(record))


def project(
    record: Mapping[str, Any], select: Sequence[str] | None, *, odata_type: str | None = None
) -> dict[str, Any]:
    """``record`` limited to ``select`` (all when ``None``), ``MetadataId`` always included,
    with ``@odata.type`` first when given."""
    out: dict[str, Any] = {}
    if odata_type:
        out["@odata.type"] = f"#{CRM}.{odata_type}"
    if select is None:
        out.update(record)
        return out
    for name in select:
        out[name] = record.get(name)
    if "MetadataId" in record:
        out["MetadataId"] = record["MetadataId"]
    return out
