"""Collection reads of one service: pages with ``@odata.nextLink``, and change tracking
(``Prefer: odata.track-changes`` pages ending with ``@odata.deltaLink``, then delta pages)."""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import quote, urlencode

from integrator.sandbox.http import delta
from integrator.sandbox.http.errors import BAD_REQUEST, ODataError
from integrator.sandbox.http.fetchread import answer_fetch
from integrator.sandbox.http.messages import ODataRequest, ODataResponse, Prefer, json_response
from integrator.sandbox.http.model import ServedSet
from integrator.sandbox.http.paging import dataverse_count, decode_token, encode_token
from integrator.sandbox.http.query import QueryOptions, parse_options
from integrator.sandbox.http.reads import read_page
from integrator.sandbox.http.records import Annotations

__all__ = ["CollectionReader", "annotations_applied", "context_url"]


def _link(root: str, path: str, params: list[tuple[str, str]]) -> str:
    query = urlencode(params, quote_via=quote, safe="$,()'=/:")
    return f"{root}{path}?{query}" if query else f"{root}{path}"


def annotations_applied(prefer: Prefer) -> dict[str, str]:
    """The ``Preference-Applied`` header echoing ``odata.include-annotations``, as Dataverse
    answers it ("Select columns", section "Formatted values"), or no header."""
    if not prefer.include_annotations:
        return {}
    return {"Preference-Applied": f'odata.include-annotations="{prefer.include_annotations}"'}


def context_url(req: ODataRequest, served: ServedSet, options: QueryOptions) -> str:
    """The ``@odata.context`` URL of a read of ``served`` with ``options``."""
    context = f"{req.service_root}$metadata#{served.name}"
    if options.selected_explicitly:
        context += "(" + ",".join(p.name for p in options.select) + ")"
    return context


class CollectionReader:
    """Answers GETs of a collection: paging capped at ``max_page_size``, delta links."""

    def __init__(self, max_page_size: int, *, case_insensitive: bool) -> None:
        self.max_page_size = max_page_size
        self.case_insensitive = case_insensitive

    def _page_size(self, prefer: Prefer) -> int:
        cap = self.max_page_size
        return min(prefer.max_page_size, cap) if prefer.max_page_size else cap

    def _applied(self, prefer: Prefer, page_size: int, *, tracking: bool = False) -> dict[str, str]:
        applied = []
        if prefer.max_page_size:
            applied.append(f"odata.maxpagesize={page_size}")
        if prefer.include_annotations:
            applied.append(f'odata.include-annotations="{prefer.include_annotations}"')
        if tracking:
            applied.append("odata.track-changes")
        return {"Preference-Applied": ",".join(applied)} if applied else {}

    def get(
        self, req: ODataRequest, conn: sqlite3.Connection, served: ServedSet, prefer: Prefer
    ) -> ODataResponse:
        """One page of ``served``: filtered, sorted, with next link or delta link."""
        options = parse_options(served, req.query)
        if options.fetch_xml is not None:
            return answer_fetch(
                req,
                conn,
                served,
                prefer,
                options.fetch_xml,
                count=options.count,
                case_insensitive=self.case_insensitive,
            )
        page_size = self._page_size(prefer)
        dataverse = served.service.flavor == "dataverse"
        if dataverse and prefer.max_page_size:
            # "Page results using OData": with both $top and odata.maxpagesize, $top is ignored
            options.top = None
        base_params = [(k, v) for k, v in req.query if k != "$skiptoken"]
        tracking = prefer.track_changes or options.deltatoken is not None
        if tracking:
            if not served.entity_set.change_tracking or served.version_column() is None:
                raise ODataError(
                    400, BAD_REQUEST, f"Change tracking is not enabled for {served.name}"
                )
            delta.check_delta_options(options)
        if options.deltatoken is not None:
            return self._delta(req, conn, served, options, prefer, page_size, base_params)
        high_water: int | None = None
        if tracking:
            state = decode_token(options.skiptoken, "$skiptoken") if options.skiptoken else {}
            high_water = int(state["h"]) if "h" in state else delta.high_water(conn)
        page = read_page(
            conn,
            served,
            options,
            page_size=page_size,
            annotations=Annotations.of(prefer),
            case_insensitive=self.case_insensitive,
        )
        body: dict[str, Any] = {"@odata.context": context_url(req, served, options)}
        if dataverse:
            body.update(dataverse_count(page.count, prefer))
        elif page.count is not None:
            body["@odata.count"] = page.count
        body["value"] = page.records
        if page.next_token is not None:
            if high_water is not None:
                page.next_token["h"] = high_water
            params = [*base_params, ("$skiptoken", encode_token(page.next_token))]
            body["@odata.nextLink"] = _link(req.service_root, served.name, params)
        elif high_water is not None:
            body["@odata.deltaLink"] = self._delta_link(req, served, options, high_water)
        return json_response(200, body, self._applied(prefer, page_size, tracking=tracking))

    def _delta_link(
        self, req: ODataRequest, served: ServedSet, options: QueryOptions, version: int
    ) -> str:
        params: list[tuple[str, str]] = []
        if options.selected_explicitly:
            params.append(("$select", ",".join(p.name for p in options.select)))
        params.append(("$deltatoken", encode_token({"s": served.name, "v": version})))
        return _link(req.service_root, served.name, params)

    def _delta(
        self,
        req: ODataRequest,
        conn: sqlite3.Connection,
        served: ServedSet,
        options: QueryOptions,
        prefer: Prefer,
        page_size: int,
        base_params: list[tuple[str, str]],
    ) -> ODataResponse:
        assert options.deltatoken is not None
        since = delta.since_version(conn, served, options.deltatoken)
        page = delta.read_delta(
            conn,
            served,
            options,
            since=since,
            page_size=page_size,
            annotations=Annotations.of(prefer),
        )
        deleted_context = f"{req.service_root}$metadata#{served.name}/$deletedEntity"
        values: list[dict[str, Any]] = list(page.records)
        values += [{"@odata.context": deleted_context, **entry} for entry in page.deleted]
        body: dict[str, Any] = {
            "@odata.context": context_url(req, served, options) + "/$delta",
            "value": values,
        }
        if page.next_token is not None:
            params = [*base_params, ("$skiptoken", encode_token(page.next_token))]
            body["@odata.nextLink"] = _link(req.service_root, served.name, params)
        else:
            body["@odata.deltaLink"] = self._delta_link(req, served, options, page.upto)
        return json_response(200, body, self._applied(prefer, page_size, tracking=True))
