"""FetchXML on the Web API (``GET contacts?fetchXml=<url-encoded xml>``): the subset a user
writes in Advanced Find, parsed safely and compiled to the ``$filter`` syntax tree.

Served: ``<fetch>`` with ``top``, ``count``, ``page``, ``paging-cookie``, ``distinct``,
``returntotalrecordcount`` (and the harmless ``version``, ``mapping``, ``output-format``,
``no-lock`` and hints ``latematerialize``, ``options``, ``useraworderby``); one ``<entity
name>`` naming the set's table; ``<attribute name>``, ``<all-attributes/>``; nested
``<filter type='and|or'>``; ``<condition attribute operator value>`` with the operators in
:data:`OPERATORS`; ``<order attribute descending>``. Everything else (``link-entity``,
aggregates, aliases, other operators, unknown attributes) is a 400 that names it: never a
silent 200 with other rows than the real service would give.

Microsoft's documentation: "Use FetchXml with Web API" (powerapps-docs/developer/data-platform/
webapi/use-fetchxml-web-api.md), the FetchXML reference (powerapps-docs/developer/data-platform/
fetchxml/reference/: fetch.md, entity.md, attribute.md, filter.md, condition.md, order.md) and
"Page results using FetchXml" (fetchxml/page-results.md).

The XML is parsed with ``defusedxml`` with DTDs forbidden, so no entity can be declared or
expanded.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from integrator.odata.ast import And, Expr
from integrator.sandbox.http.fetchconditions import (
    INVALID_FETCH,
    MAX_COUNT,
    UNKNOWN_ATTRIBUTE,
    attribute_property,
    bad_fetch,
    compile_filter,
    flag,
    parse_xml,
    positive,
    refuse_unknown,
)
from integrator.sandbox.http.model import Property, ServedSet

__all__ = [
    "INVALID_FETCH",
    "MAX_COUNT",
    "UNKNOWN_ATTRIBUTE",
    "FetchQuery",
    "attribute_property",
    "parse_fetch",
    "parse_xml",
]

_FETCH_ATTRIBUTES = {
    "version",
    "output-format",
    "mapping",
    "distinct",
    "no-lock",
    "top",
    "count",
    "page",
    "paging-cookie",
    "returntotalrecordcount",
    # performance hints that change no result (fetch.md: latematerialize, options)
    "latematerialize",
    "options",
    "useraworderby",
}
#: attributes Advanced Find writes on conditions for its own display; they change nothing


@dataclass
class FetchQuery:
    """A parsed FetchXML query over one entity set."""

    select: list[Property]
    all_attributes: bool
    filter: Expr | None = None
    orderby: list[tuple[Property, bool]] = field(default_factory=list)
    top: int | None = None
    count: int | None = None
    page: int = 1
    #: the ``paging-cookie`` attribute's XML, when given
    paging_cookie: str | None = None
    total_record_count: bool = False
    #: ``distinct='true'``: unique combinations of the selected attributes, without the key
    distinct: bool = False


def _entity(served: ServedSet, entity: ET.Element, query: FetchQuery) -> None:
    refuse_unknown(entity, {"name"})
    if entity.get("name") != served.entity_set.entity_type:
        raise bad_fetch(
            f"The FetchXML entity '{entity.get('name')}' does not match the entity set "
            f"'{served.name}' (entity '{served.entity_set.entity_type}')"
        )
    filters: list[Expr] = []
    for child in entity:
        if child.tag == "attribute":
            refuse_unknown(child, {"name"})
            prop = attribute_property(served, child.get("name") or "")
            if prop not in query.select:
                query.select.append(prop)
        elif child.tag == "all-attributes":
            query.all_attributes = True
        elif child.tag == "filter":
            expr = compile_filter(served, child)
            if expr is not None:
                filters.append(expr)
        elif child.tag == "order":
            refuse_unknown(child, {"attribute", "descending"})
            prop = attribute_property(served, child.get("attribute") or "")
            descending = flag(child, "descending")
            query.orderby.append((prop, descending))
        else:
            raise bad_fetch(f"The FetchXML element <{child.tag}> is not supported by the sandbox")
    if filters:
        query.filter = filters[0] if len(filters) == 1 else And(tuple(filters))


def parse_fetch(served: ServedSet, text: str) -> FetchQuery:
    """Parse ``text`` (the ``fetchXml`` option) against ``served``; 400 naming anything outside
    the served subset or wrong (unknown attribute, entity of another table, top with paging)."""
    root = parse_xml(text, "fetchXml")
    if root.tag != "fetch":
        raise bad_fetch(f"A FetchXML query starts with <fetch>, not <{root.tag}>")
    refuse_unknown(root, _FETCH_ATTRIBUTES)
    distinct = flag(root, "distinct")
    entities = list(root)
    if len(entities) != 1 or entities[0].tag != "entity":
        raise bad_fetch("A FetchXML <fetch> holds exactly one <entity> element")
    query = FetchQuery(select=[], all_attributes=False)
    _entity(served, entities[0], query)
    if not query.select:
        query.all_attributes = True
    if query.all_attributes:
        query.select = list(served.properties.values())
    query.top = positive(root, "top")
    query.count = positive(root, "count")
    page = positive(root, "page")
    if query.top is not None and (query.count is not None or page is not None):
        raise bad_fetch("The FetchXML 'top' attribute cannot be used with paging ('count', 'page')")
    if query.top is not None and query.top > MAX_COUNT:
        raise bad_fetch(f"The FetchXML 'top' attribute is at most {MAX_COUNT}, not {query.top}")
    query.page = page or 1
    query.paging_cookie = root.get("paging-cookie") or None
    query.total_record_count = flag(root, "returntotalrecordcount")
    query.distinct = distinct
    return query
