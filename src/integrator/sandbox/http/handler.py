"""One service's OData operations: routing a request below the service root to the read, write,
change-tracking, ``$metadata`` or action code, on a connection the caller provides.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from integrator.sandbox.http import delta
from integrator.sandbox.http.errors import (
    BAD_REQUEST,
    INVALID_VALUE,
    UNKNOWN_RESOURCE,
    ODataError,
)
from integrator.sandbox.http.keys import format_key, resolve_key, split_resource
from integrator.sandbox.http.messages import (
    ODataRequest,
    ODataResponse,
    Prefer,
    json_response,
)
from integrator.sandbox.http.metadata import metadata_xml
from integrator.sandbox.http.model import ServedService, ServedSet
from integrator.sandbox.http.query import QueryOptions, decode_token, encode_token, parse_options
from integrator.sandbox.http.reads import count_rows, read_one, read_page
from integrator.sandbox.http.writes import Explain, WriteContext, not_found

__all__ = ["AutoNumberSeeder", "ServiceHandler"]

#: ``set_autonumber_seed(conn, entity_name, attribute_name, value)`` of the store
AutoNumberSeeder = Callable[[sqlite3.Connection, str, str, int], None]


def _link(root: str, path: str, params: list[tuple[str, str]]) -> str:
    query = urlencode(params, quote_via=quote, safe="$,()'=/:")
    return f"{root}{path}?{query}" if query else f"{root}{path}"


class ServiceHandler:
    """Answers OData requests for one service (Sales, CDS or F&O)."""

    def __init__(
        self,
        service: ServedService,
        *,
        explain: Explain,
        set_autonumber_seed: AutoNumberSeeder | None = None,
    ) -> None:
        self.service = service
        self.explain = explain
        self.set_autonumber_seed = set_autonumber_seed
        self._metadata: bytes | None = None
        self._sql_cache: dict[tuple[Any, ...], str] = {}
        flavor = service.service.flavor
        # Dataverse and F&O both compare strings case-insensitively (SQL Server collations)
        self.case_insensitive = flavor in ("dataverse", "finops")

    @property
    def name(self) -> str:
        """The service's name (``sales``, ``cds``, ``finops``)."""
        return self.service.service.name

    # ---- routing ----------------------------------------------------------------------------

    def _served(self, name: str) -> ServedSet:
        served = self.service.sets.get(name)
        if served is None:
            raise ODataError(404, UNKNOWN_RESOURCE, f"Resource not found for the segment '{name}'")
        return served

    def dispatch(
        self,
        req: ODataRequest,
        conn: sqlite3.Connection,
        content_ids: dict[str, str] | None = None,
    ) -> ODataResponse:
        """Answer ``req`` (not ``$batch``) on ``conn``; raises :class:`ODataError` on failure.

        Runs inside whatever transaction the caller holds.
        """
        path = req.path.strip("/")
        method = req.method.upper()
        if path == "":
            self._allow(method, "GET")
            return self._service_document(req)
        if path == "$metadata":
            self._allow(method, "GET")
            if self._metadata is None:
                self._metadata = metadata_xml(self.service)
            return ODataResponse(
                200,
                {"Content-Type": "application/xml", "OData-Version": "4.0"},
                self._metadata,
            )
        if path == "SetAutoNumberSeed" and self.service.service.flavor == "dataverse":
            self._allow(method, "POST")
            return self._set_seed(req, conn)
        set_name, key_text, rest = split_resource(path)
        served = self._served(set_name)
        prefer = Prefer.parse(req.headers.get("prefer"))
        if key_text is None:
            if rest == "$count":
                self._allow(method, "GET")
                options = parse_options(served, req.query)
                count = count_rows(conn, served, options, case_insensitive=self.case_insensitive)
                return ODataResponse(200, {"Content-Type": "text/plain"}, str(count).encode())
            if rest:
                raise ODataError(
                    404, UNKNOWN_RESOURCE, f"Resource not found for the segment '{rest}'"
                )
            if method == "GET":
                return self._get_collection(req, conn, served, prefer)
            if method == "POST":
                return self._create(req, conn, served, prefer, content_ids)
            raise self._not_allowed(method)
        if rest:
            raise ODataError(404, UNKNOWN_RESOURCE, f"Resource not found for the segment '{rest}'")
        key = resolve_key(served, key_text)
        if method == "GET":
            return self._get_one(req, conn, served, key, prefer)
        if method in ("PATCH", "PUT"):
            return self._upsert(req, conn, served, key, prefer, content_ids)
        if method == "DELETE":
            self._writer(req, conn, None).delete(served, key)
            return ODataResponse(204, {"OData-Version": "4.0"})
        raise self._not_allowed(method)

    @staticmethod
    def _allow(method: str, allowed: str) -> None:
        if method != allowed:
            raise ServiceHandler._not_allowed(method)

    @staticmethod
    def _not_allowed(method: str) -> ODataError:
        return ODataError(405, BAD_REQUEST, f"The method {method} is not allowed on this resource")

    def is_read(self, req: ODataRequest) -> bool:
        """Whether ``req`` only reads (it may then run on a reader connection)."""
        return req.method.upper() == "GET"

    # ---- reads ------------------------------------------------------------------------------

    def _service_document(self, req: ODataRequest) -> ODataResponse:
        return json_response(
            200,
            {
                "@odata.context": f"{req.service_root}$metadata",
                "value": [
                    {"name": name, "kind": "EntitySet", "url": name} for name in self.service.sets
                ],
            },
        )

    def _page_size(self, prefer: Prefer) -> int:
        cap = self.service.service.max_page_size
        return min(prefer.max_page_size, cap) if prefer.max_page_size else cap

    def _context(self, req: ODataRequest, served: ServedSet, options: QueryOptions) -> str:
        context = f"{req.service_root}$metadata#{served.name}"
        if options.selected_explicitly:
            context += "(" + ",".join(p.name for p in options.select) + ")"
        return context

    def _applied(self, prefer: Prefer, page_size: int, *, tracking: bool = False) -> dict[str, str]:
        applied = []
        if prefer.max_page_size:
            applied.append(f"odata.maxpagesize={page_size}")
        if prefer.include_annotations:
            applied.append(f'odata.include-annotations="{prefer.include_annotations}"')
        if tracking:
            applied.append("odata.track-changes")
        return {"Preference-Applied": ",".join(applied)} if applied else {}

    def _get_collection(
        self, req: ODataRequest, conn: sqlite3.Connection, served: ServedSet, prefer: Prefer
    ) -> ODataResponse:
        options = parse_options(served, req.query)
        page_size = self._page_size(prefer)
        base_params = [(k, v) for k, v in req.query if k != "$skiptoken"]
        tracking = prefer.track_changes or options.deltatoken is not None
        if tracking:
            if not served.entity_set.change_tracking or served.version_column() is None:
                raise ODataError(
                    400, BAD_REQUEST, f"Change tracking is not enabled for {served.name}"
                )
            delta.check_delta_options(options)
        if options.deltatoken is not None:
            return self._get_delta(req, conn, served, options, prefer, page_size, base_params)
        high_water: int | None = None
        if tracking:
            state = decode_token(options.skiptoken, "$skiptoken") if options.skiptoken else {}
            high_water = int(state["h"]) if "h" in state else delta.high_water(conn)
        page = read_page(
            conn,
            served,
            options,
            page_size=page_size,
            annotations=prefer.lookup_annotations,
            case_insensitive=self.case_insensitive,
        )
        body: dict[str, Any] = {"@odata.context": self._context(req, served, options)}
        if page.count is not None:
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

    def _get_delta(
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
            annotations=prefer.lookup_annotations,
        )
        deleted_context = f"{req.service_root}$metadata#{served.name}/$deletedEntity"
        values: list[dict[str, Any]] = list(page.records)
        values += [{"@odata.context": deleted_context, **entry} for entry in page.deleted]
        body: dict[str, Any] = {
            "@odata.context": self._context(req, served, options) + "/$delta",
            "value": values,
        }
        if page.next_token is not None:
            params = [*base_params, ("$skiptoken", encode_token(page.next_token))]
            body["@odata.nextLink"] = _link(req.service_root, served.name, params)
        else:
            body["@odata.deltaLink"] = self._delta_link(req, served, options, page.upto)
        return json_response(200, body, self._applied(prefer, page_size, tracking=True))

    def _get_one(
        self,
        req: ODataRequest,
        conn: sqlite3.Connection,
        served: ServedSet,
        key: dict[str, Any],
        prefer: Prefer,
    ) -> ODataResponse:
        options = parse_options(served, req.query)
        record = read_one(
            conn,
            served,
            key,
            options.select,
            annotations=prefer.lookup_annotations,
            expands=options.expand,
        )
        if record is None:
            raise not_found(served, key)
        context = self._context(req, served, options) + "/$entity"
        return json_response(200, {"@odata.context": context, **record})

    # ---- writes -----------------------------------------------------------------------------

    def _writer(
        self, req: ODataRequest, conn: sqlite3.Connection, content_ids: dict[str, str] | None
    ) -> WriteContext:
        return WriteContext(
            conn, self.service, req.service_root, self.explain, content_ids or {}, self._sql_cache
        )

    def _entity_url(self, req: ODataRequest, served: ServedSet, key: dict[str, Any]) -> str:
        return f"{req.service_root}{served.name}{format_key(served, key)}"

    def _representation(
        self,
        req: ODataRequest,
        conn: sqlite3.Connection,
        served: ServedSet,
        key: dict[str, Any],
        prefer: Prefer,
        status: int,
        headers: dict[str, str],
    ) -> ODataResponse:
        options = parse_options(served, req.query)
        record = read_one(conn, served, key, options.select, annotations=prefer.lookup_annotations)
        context = self._context(req, served, options) + "/$entity"
        applied = (
            {"Preference-Applied": "return=representation"} if prefer.return_representation else {}
        )
        return json_response(
            status, {"@odata.context": context, **(record or {})}, {**headers, **applied}
        )

    def _wants_body(self, prefer: Prefer, *, post: bool) -> bool:
        # F&O answers a POST with the created entity unless told otherwise; PATCH with 204
        if post and self.service.service.flavor == "finops":
            return not prefer.return_minimal
        return prefer.return_representation

    def _create(
        self,
        req: ODataRequest,
        conn: sqlite3.Connection,
        served: ServedSet,
        prefer: Prefer,
        content_ids: dict[str, str] | None,
    ) -> ODataResponse:
        writer = self._writer(req, conn, content_ids)
        key = writer.create(served, req.json_body())
        url = self._entity_url(req, served, key)
        headers = {"OData-EntityId": url, "Location": url}
        if self._wants_body(prefer, post=True):
            return self._representation(req, conn, served, key, prefer, 201, headers)
        return ODataResponse(204, {"OData-Version": "4.0", **headers})

    def _upsert(
        self,
        req: ODataRequest,
        conn: sqlite3.Connection,
        served: ServedSet,
        key: dict[str, Any],
        prefer: Prefer,
        content_ids: dict[str, str] | None,
    ) -> ODataResponse:
        writer = self._writer(req, conn, content_ids)
        if_match = req.headers.get("if-match", "").strip() or None
        if_none_match = req.headers.get("if-none-match", "").strip() == "*"
        created, primary = writer.upsert(
            served, key, req.json_body(), if_match=if_match, if_none_match=if_none_match
        )
        url = self._entity_url(req, served, primary)
        headers = {"OData-EntityId": url}
        if self._wants_body(prefer, post=False):
            return self._representation(
                req, conn, served, primary, prefer, 201 if created else 200, headers
            )
        return ODataResponse(204, {"OData-Version": "4.0", **headers})

    def _set_seed(self, req: ODataRequest, conn: sqlite3.Connection) -> ODataResponse:
        body = req.json_body()
        if not isinstance(body, dict):
            raise ODataError(400, BAD_REQUEST, "The request body must be a JSON object")
        missing = [n for n in ("EntityName", "AttributeName", "Value") if n not in body]
        if missing:
            raise ODataError(400, BAD_REQUEST, f"SetAutoNumberSeed needs {', '.join(missing)}")
        entity, attribute, value = body["EntityName"], body["AttributeName"], body["Value"]
        if not isinstance(entity, str) or not isinstance(attribute, str):
            raise ODataError(400, INVALID_VALUE, "EntityName and AttributeName must be strings")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ODataError(
                400, INVALID_VALUE, f"Invalid value {value!r} for 'Value': expected an integer"
            )
        if self.set_autonumber_seed is None:
            raise ODataError(404, UNKNOWN_RESOURCE, "SetAutoNumberSeed is not available here")
        try:
            self.set_autonumber_seed(conn, entity, attribute, value)
        except ValueError as exc:
            raise ODataError(400, INVALID_VALUE, str(exc)) from None
        return ODataResponse(204, {"OData-Version": "4.0"})
