"""Answering ``GET <set>?fetchXml=...`` as Dataverse does: one page of ``count`` rows (at most
5000), properties with null values left out, and the paging annotations
``@Microsoft.Dynamics.CRM.fetchxmlpagingcookie`` / ``@Microsoft.Dynamics.CRM.morerecords`` when
the client asks for them ("Page results using FetchXml", Web API tab, and "Use FetchXml with
Web API", powerapps-docs/developer/data-platform/fetchxml/page-results.md and
webapi/use-fetchxml-web-api.md).

Paging: with a paging cookie whose page is the one before the requested page, the next page
starts strictly after the cookie's last values (keyset, as Dataverse's cookie does); without one,
page N skips (N-1) x count rows ("simple paging").
"""

from __future__ import annotations

import sqlite3
import uuid
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from integrator.sandbox.http.errors import ODataError
from integrator.sandbox.http.fetchxml import (
    INVALID_FETCH,
    MAX_COUNT,
    FetchQuery,
    attribute_property,
    parse_fetch,
    parse_xml,
)
from integrator.sandbox.http.filtering import where_clause
from integrator.sandbox.http.messages import (
    FETCH_PAGING_COOKIE,
    MORE_RECORDS,
    ODataRequest,
    ODataResponse,
    Prefer,
    json_response,
)
from integrator.sandbox.http.model import Property, ServedSet
from integrator.sandbox.http.paging import (
    COUNT_LIMIT,
    TOTAL_RECORD_COUNT,
    dataverse_count,
    encode_token,
)
from integrator.sandbox.http.query import QueryOptions, compile_sql
from integrator.sandbox.http.reads import read_page, sort_order
from integrator.sandbox.http.records import (
    Annotations,
    RowReader,
    add_lookup_names,
    output_properties,
)

__all__ = ["answer_fetch"]

#: the query options that may accompany ``fetchXml`` (the XML carries the rest)
_WITH_FETCH = {"fetchXml", "$count"}


def _logical_name(prop: Property) -> str:
    return prop.lookup.name if prop.lookup is not None else prop.name


def _cookie_text(prop: Property, value: Any) -> str:
    if prop.type in ("guid", "lookup"):
        return "{" + str(value).upper() + "}"
    return str(value)


def _cookie_value(prop: Property, text: str) -> Any:
    if prop.type in ("guid", "lookup"):
        return str(uuid.UUID(text.strip("{}")))
    if prop.type in ("integer", "boolean"):
        return int(text)
    if prop.type == "decimal":
        return float(text)
    return text


def _paging_cookie(
    order: list[tuple[Property, bool]], page: int, first: list[Any], last: list[Any]
) -> str:
    """The ``fetchxmlpagingcookie`` annotation: a ``<cookie>`` element whose ``pagingcookie``
    attribute is the page's cookie URL-encoded twice, as Dataverse returns it."""
    cookie = ET.Element("cookie", page=str(page))
    for (prop, _), first_value, last_value in zip(order, first, last, strict=True):
        bounds = {}
        if last_value is not None:
            bounds["last"] = _cookie_text(prop, last_value)
        if first_value is not None:
            bounds["first"] = _cookie_text(prop, first_value)
        ET.SubElement(cookie, _logical_name(prop), bounds)
    inner = ET.tostring(cookie, encoding="unicode")
    encoded = quote(quote(inner, safe=""), safe="")
    return f'<cookie pagenumber="{page + 1}" pagingcookie="{encoded}" istracking="False" />'


def _cookie_keyset(
    served: ServedSet, query: FetchQuery, order: list[tuple[Property, bool]]
) -> list[Any] | None:
    """The sort values to continue after, from the request's paging cookie; ``None`` when the
    cookie does not continue the previous page (then simple paging applies)."""
    if query.paging_cookie is None or query.page < 2:
        return None
    root = parse_xml(query.paging_cookie, "paging-cookie")
    if root.tag != "cookie" or root.get("page") != str(query.page - 1):
        return None
    bounds: dict[str, ET.Element] = {}
    for child in root:
        bounds[attribute_property(served, child.tag).name] = child
    values: list[Any] = []
    for prop, _ in order:
        element = bounds.get(prop.name)
        if element is None:
            return None
        text = element.get("last")
        try:
            values.append(None if text is None else _cookie_value(prop, text))
        except ValueError:
            raise ODataError(
                400, INVALID_FETCH, f"The paging-cookie value '{text}' of {prop.name} is not valid"
            ) from None
    return values


def _options(
    served: ServedSet, query: FetchQuery, count: bool
) -> tuple[QueryOptions, list[Property]]:
    options = QueryOptions(
        select=list(query.select),
        selected_explicitly=not query.all_attributes,
        filter=query.filter,
        orderby=list(query.orderby),
        top=query.top,
        count=count,
    )
    return options, output_properties(served, query.select)


def answer_fetch(
    req: ODataRequest,
    conn: sqlite3.Connection,
    served: ServedSet,
    prefer: Prefer,
    fetch_xml: str,
    *,
    count: bool,
    case_insensitive: bool,
) -> ODataResponse:
    """The page ``fetch_xml`` selects of ``served``; 400 for what is outside the served subset."""
    for name, _ in req.query:
        if name not in _WITH_FETCH:
            raise ODataError(
                400, INVALID_FETCH, f"The query parameter {name} cannot be used with fetchXml"
            )
    query = parse_fetch(served, fetch_xml)
    options, props = _options(served, query, count)
    page_size = min(query.count or MAX_COUNT, MAX_COUNT)
    if query.distinct:
        return _answer_distinct(
            req, conn, served, prefer, query, options, page_size, case_insensitive=case_insensitive
        )
    order = sort_order(served, options)
    keyset = _cookie_keyset(served, query, order)
    if keyset is not None:
        options.skiptoken = encode_token({"k": keyset, "n": 0})
    elif query.page > 1:
        options.skip = (query.page - 1) * page_size
    page = read_page(
        conn,
        served,
        options,
        page_size=page_size,
        annotations=Annotations.of(prefer),
        case_insensitive=case_insensitive,
    )
    context = f"{req.service_root}$metadata#{served.name}"
    if not query.all_attributes:
        context += "(" + ",".join(p.name for p in props) + ")"
    body: dict[str, Any] = {"@odata.context": context}
    body.update(dataverse_count(page.count, prefer))
    if query.total_record_count and page.count is not None:
        body[f"@{TOTAL_RECORD_COUNT}"] = min(page.count, COUNT_LIMIT)
    more = page.next_token is not None
    if more and prefer.wants(FETCH_PAGING_COOKIE) and page.first_sort is not None:
        assert page.next_token is not None
        body[f"@{FETCH_PAGING_COOKIE}"] = _paging_cookie(
            order, query.page, page.first_sort, page.next_token["k"]
        )
    if more and prefer.wants(MORE_RECORDS):
        body[f"@{MORE_RECORDS}"] = True
    return _respond(body, page.records, prefer)


def _respond(body: dict[str, Any], records: list[dict[str, Any]], prefer: Prefer) -> ODataResponse:
    # FetchXML results leave out the properties whose value is null
    body["value"] = [{k: v for k, v in r.items() if v is not None} for r in records]
    applied = (
        {"Preference-Applied": f'odata.include-annotations="{prefer.include_annotations}"'}
        if prefer.include_annotations
        else {}
    )
    return json_response(200, body, applied)


def _answer_distinct(
    req: ODataRequest,
    conn: sqlite3.Connection,
    served: ServedSet,
    prefer: Prefer,
    query: FetchQuery,
    options: QueryOptions,
    page_size: int,
    *,
    case_insensitive: bool,
) -> ODataResponse:
    """``distinct='true'``: the unique combinations of the selected attributes (no key, no
    etag: a combination is not one row), paged by position (no paging cookie)."""
    annotations = Annotations.of(prefer)
    reader = RowReader(served, query.select, annotations=annotations, etag=False)
    columns = [p.column for p in query.select] + reader.extra_columns()
    table = served.table
    inner = sa.select(*(table.c[c] for c in columns)).distinct()
    where = where_clause(served, options, case_insensitive=case_insensitive)
    if where is not None:
        inner = inner.where(where)
    ordered = [(table.c[p.column], desc) for p, desc in query.orderby]
    named = {p.column for p, _ in query.orderby}
    ordered += [(table.c[c], False) for c in columns if c not in named]
    stmt = inner.order_by(*(c.desc() if desc else c.asc() for c, desc in ordered))
    limit = page_size if query.top is None else min(page_size, query.top)
    stmt = stmt.limit(limit + 1).offset((query.page - 1) * page_size)
    sql, params = compile_sql(stmt)
    rows = conn.execute(sql, params).fetchall()
    more = len(rows) > limit and query.top is None
    records = reader.records(rows[:limit])
    if annotations.formatted:
        add_lookup_names(conn, served, records, query.select)
    body: dict[str, Any] = {"@odata.context": f"{req.service_root}$metadata#{served.name}"}
    total: int | None = None
    if options.count:
        sql, params = compile_sql(sa.select(sa.func.count()).select_from(inner.subquery()))
        total = int(conn.execute(sql, params).fetchone()[0])
    body.update(dataverse_count(total, prefer))
    if more and prefer.wants(MORE_RECORDS):
        body[f"@{MORE_RECORDS}"] = True
    return _respond(body, records, prefer)
