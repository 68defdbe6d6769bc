"""Query options of a collection GET (``$select $filter $orderby $top $skip $count $expand``,
``fetchXml``), parsed and checked against an entity set; :func:`compile_sql` turns SQLAlchemy
Core statements into text with bound parameters for ``sqlite3``.

Which options a service takes follows the real one:

- Dataverse refuses ``$skip`` ("Page results using OData": "Dataverse doesn't support the
  ``$skip`` query option", powerapps-docs/developer/data-platform/webapi/query/page-results.md)
  and any query parameter it does not know, both with 400 ``0x80060888`` "The query parameter
  <name> is not supported". It knows ``fetchXml`` ("Use FetchXml with Web API",
  powerapps-docs/developer/data-platform/webapi/use-fetchxml-web-api.md) and parameter aliases
  (``@p1``) used in ``$filter`` and ``$orderby`` ("Filter rows", section "Use parameter aliases").
- F&O takes ``$skip`` and ``cross-company`` ("Open Data Protocol (OData)", learn.microsoft.com/
  dynamics365/fin-ops-core/dev-itpro/data-entities/odata) and, as ASP.NET OData services do,
  passes other custom (non-``$``) options by; an unknown ``$`` option is refused.

Values are always bound parameters; identifiers come from the set's description.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from integrator.errors import FilterSyntaxError
from integrator.odata.filter import Expr, parse_filter
from integrator.sandbox.http.errors import (
    BAD_REQUEST,
    INVALID_FILTER,
    INVALID_PROPERTY,
    ODataError,
)
from integrator.sandbox.http.model import Property, ServedSet

__all__ = [
    "UNSUPPORTED_PARAMETER",
    "Expand",
    "QueryOptions",
    "compile_sql",
    "parse_options",
    "unknown_property",
]

_DIALECT = sqlite.dialect(paramstyle="named")

#: query options a collection GET understands; others starting with ``$`` are refused
_KNOWN = {
    "$select",
    "$filter",
    "$orderby",
    "$top",
    "$skip",
    "$count",
    "$expand",
    "$skiptoken",
    "$deltatoken",
    "$format",
}
#: what Dataverse understands: no ``$skip`` or ``$format`` ("Use OData to query data", section
#: "Unsupported OData query options"); ``fetchXml`` besides the ``$`` options
_DATAVERSE_KNOWN = (_KNOWN - {"$skip", "$format"}) | {"fetchXml"}
#: options real Dataverse serves and the sandbox does not: refused with a message saying so
_DATAVERSE_NOT_SERVED = {"$apply", "savedQuery", "userQuery"}
#: Dataverse's answer to a query parameter it does not take (``$skip`` included)
UNSUPPORTED_PARAMETER = "0x80060888"


@dataclass(frozen=True)
class Expand:
    """One ``$expand`` item: a navigation and the properties selected on its target."""

    navigation: str
    select: tuple[Property, ...]


@dataclass
class QueryOptions:
    """The parsed options of a GET over a set."""

    select: list[Property]
    selected_explicitly: bool = False
    filter: Expr | None = None
    orderby: list[tuple[Property, bool]] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    count: bool = False
    expand: list[Expand] = field(default_factory=list)
    cross_company: bool = False
    skiptoken: str | None = None
    deltatoken: str | None = None
    #: Dataverse: the ``fetchXml`` option's XML (answered by ``fetchxml.py``), else ``None``
    fetch_xml: str | None = None


def compile_sql(statement: sa.sql.ClauseElement) -> tuple[str, dict[str, Any]]:
    """SQL text with ``:name`` placeholders and its parameters, for ``sqlite3``."""
    compiled = statement.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    return str(compiled), dict(compiled.params)


def _split_top_level(text: str, sep: str = ",") -> list[str]:
    parts: list[str] = []
    depth, start, in_string = 0, 0, False
    for i, ch in enumerate(text):
        if ch == "'":
            in_string = not in_string
        elif in_string:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _select(served: ServedSet, text: str) -> list[Property]:
    props: list[Property] = []
    for name in _split_top_level(text):
        if name == "*":
            return list(served.properties.values())
        prop = served.properties.get(name)
        if prop is None:
            lookup = (
                served.entity_set.lookup(name) if hasattr(served.entity_set, "lookup") else None
            )
            prop = served.properties.get(f"_{lookup.name}_value") if lookup else None
        if prop is None:
            raise unknown_property(served, name)
        if prop not in props:
            props.append(prop)
    return props


def unknown_property(served: ServedSet, name: str) -> ODataError:
    """The 400 for a property ``served`` does not have, worded as Dataverse words it ("Could not
    find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'.", Troubleshoot
    Dataverse Web API client errors, SupportArticles-docs/support/power-platform/dataverse/
    dataverse-web-api-and-sdk/web-api-client-errors.md)."""
    type_name = f"{served.service.namespace}.{served.entity_set.entity_type}"
    return ODataError(
        400,
        INVALID_PROPERTY,
        f"Could not find a property named '{name}' on type '{type_name}'.",
    )


def _unsupported(name: str) -> ODataError:
    if name in _DATAVERSE_NOT_SERVED:
        return ODataError(
            400,
            UNSUPPORTED_PARAMETER,
            f"The query parameter {name} is not supported by the sandbox (Dataverse serves it)",
        )
    return ODataError(400, UNSUPPORTED_PARAMETER, f"The query parameter {name} is not supported")


def _substitute_aliases(text: str, aliases: dict[str, str]) -> str:
    """``text`` with each parameter alias (``@p1``) outside string literals replaced by its
    value; an alias given no value is null ("Use OData to query data", section "Use parameter
    aliases with query options")."""
    out: list[str] = []
    i, in_string = 0, False
    while i < len(text):
        ch = text[i]
        if ch == "'":
            in_string = not in_string
        if ch == "@" and not in_string:
            j = i + 1
            while j < len(text) and (text[j].isalnum() or text[j] == "_"):
                j += 1
            if j > i + 1:
                out.append(aliases.get(text[i:j], "null"))
                i = j
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _int_option(name: str, text: str) -> int:
    if not text.isdigit():
        raise ODataError(400, BAD_REQUEST, f"{name} must be a non-negative integer, not '{text}'")
    return int(text)


def _expand(served: ServedSet, text: str) -> list[Expand]:
    items: list[Expand] = []
    for item in _split_top_level(text):
        name, _, rest = item.partition("(")
        name = name.strip()
        nav = served.navigations.get(name)
        if nav is None:
            raise ODataError(
                400,
                INVALID_PROPERTY,
                f"Could not find a navigation property named '{name}' on {served.name} ($expand)",
            )
        select = list(nav.target.properties.values())
        if rest:
            if not rest.endswith(")"):
                raise ODataError(400, BAD_REQUEST, f"Unbalanced parentheses in $expand '{item}'")
            for option in _split_top_level(rest[:-1], ";"):
                key, _, value = option.partition("=")
                if key.strip() != "$select":
                    raise ODataError(
                        400,
                        BAD_REQUEST,
                        f"Only $select is supported inside $expand, not '{key.strip()}'",
                    )
                select = _select(nav.target, value)
        for key_name in nav.target.key:
            key_prop = nav.target.properties[key_name]
            if key_prop not in select:
                select.append(key_prop)
        items.append(Expand(name, tuple(select)))
    return items


def _orderby(served: ServedSet, text: str) -> list[tuple[Property, bool]]:
    out: list[tuple[Property, bool]] = []
    for item in _split_top_level(text):
        words = item.split()
        direction = words[1].lower() if len(words) == 2 else "asc"
        if len(words) > 2 or direction not in ("asc", "desc"):
            raise ODataError(400, BAD_REQUEST, f"Bad $orderby item '{item}'")
        prop = served.properties.get(words[0])
        if prop is None:
            raise unknown_property(served, words[0])
        out.append((prop, direction == "desc"))
    return out


def parse_options(served: ServedSet, params: Sequence[tuple[str, str]]) -> QueryOptions:
    """Parse and check a request's query options against ``served``; 400 on anything wrong."""
    seen: dict[str, str] = {}
    aliases: dict[str, str] = {}
    cross_company = False
    dataverse = served.service.flavor == "dataverse"
    known = _DATAVERSE_KNOWN if dataverse else _KNOWN
    for name, value in params:
        if dataverse and name.startswith("@"):
            aliases[name] = value
            continue
        if name.startswith("$") or dataverse:
            if name not in known:
                raise (
                    _unsupported(name)
                    if dataverse
                    else ODataError(400, BAD_REQUEST, f"The query option '{name}' is not supported")
                )
            if name in seen:
                raise ODataError(400, BAD_REQUEST, f"The query option '{name}' is given twice")
            seen[name] = value
        elif name.lower() == "cross-company":
            cross_company = value.strip().lower() == "true"
    for name in ("$filter", "$orderby"):
        if dataverse and name in seen and "@" in seen[name]:
            seen[name] = _substitute_aliases(seen[name], aliases)
    options = QueryOptions(select=list(served.properties.values()), cross_company=cross_company)
    options.fetch_xml = seen.get("fetchXml")
    if "$select" in seen:
        options.select = _select(served, seen["$select"])
        options.selected_explicitly = True
    if "$filter" in seen:
        try:
            options.filter = parse_filter(seen["$filter"], aliases)
        except FilterSyntaxError as exc:
            raise ODataError(
                400,
                INVALID_FILTER,
                f"Invalid $filter at position {exc.position}: {exc.reason} in {exc.text!r}",
            ) from None
    if "$orderby" in seen:
        options.orderby = _orderby(served, seen["$orderby"])
    if "$top" in seen:
        options.top = _int_option("$top", seen["$top"])
    if "$skip" in seen:
        options.skip = _int_option("$skip", seen["$skip"])
    if "$count" in seen:
        flag = seen["$count"].strip().lower()
        if flag not in ("true", "false"):
            raise ODataError(400, BAD_REQUEST, f"$count must be true or false, not '{flag}'")
        options.count = flag == "true"
    if "$expand" in seen:
        options.expand = _expand(served, seen["$expand"])
    options.skiptoken = seen.get("$skiptoken")
    options.deltatoken = seen.get("$deltatoken")
    return options
