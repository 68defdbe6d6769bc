"""One service's OData operations: routing a request below the service root to the read, write,
change-tracking, ``$metadata`` or action code, on a connection the caller provides.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from integrator.sandbox.http.bulk import (
    BULK_ACTIONS,
    MESSAGE_FILTERS,
    message_filters,
    run_bulk_action,
)
from integrator.sandbox.http.collection import CollectionReader, annotations_applied, context_url
from integrator.sandbox.http.definitions import ServiceDefinitions
from integrator.sandbox.http.entity_definitions import DefinitionsHandler
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
from integrator.sandbox.http.query import parse_options
from integrator.sandbox.http.reads import count_rows, read_one
from integrator.sandbox.http.record_count import FUNCTION as RECORD_COUNT
from integrator.sandbox.http.record_count import retrieve_total_record_count
from integrator.sandbox.http.records import Annotations
from integrator.sandbox.http.writes import Explain, WriteContext, not_found

__all__ = ["AutoNumberSeeder", "ServiceHandler"]

#: ``set_autonumber_seed(conn, entity_name, attribute_name, value)`` of the store
AutoNumberSeeder = Callable[[sqlite3.Connection, str, str, int], None]


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
        self._definitions: DefinitionsHandler | None = None
        self._sql_cache: dict[tuple[Any, ...], str] = {}
        # Dataverse and F&O both compare strings case-insensitively (SQL Server collations)
        self.case_insensitive = True
        self._collections = CollectionReader(
            service.service.max_page_size, case_insensitive=self.case_insensitive
        )
        #: the entity sets whose tables offer the bulk messages (``None``: all of them)
        self.bulk_message_sets: set[str] | None = None
        #: told ``(action, targets)`` of each bulk message received (the request counter)
        self.count_bulk: Callable[[str, int], None] | None = None

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
        if self._is_definitions(path):
            return self._definitions_handler().answer(req)
        if path == "SetAutoNumberSeed" and self.service.service.flavor == "dataverse":
            self._allow(method, "POST")
            return self._set_seed(req, conn)
        if path.startswith(RECORD_COUNT + "(") and self.service.service.flavor == "dataverse":
            self._allow(method, "GET")
            return retrieve_total_record_count(req, path, conn, self.service)
        set_name, key_text, rest = split_resource(path)
        dataverse = self.service.service.flavor == "dataverse"
        if dataverse and set_name == MESSAGE_FILTERS and key_text is None and not rest:
            self._allow(method, "GET")
            return message_filters(req, self.service, self.bulk_message_sets)
        served = self._served(set_name)
        prefer = Prefer.parse(req.headers.get("prefer"))
        if key_text is None:
            if dataverse and rest in BULK_ACTIONS:
                self._allow(method, "POST")
                offered = self.bulk_message_sets
                if offered is not None and served.name not in offered:
                    raise ODataError(
                        400,
                        BAD_REQUEST,
                        f"The '{BULK_ACTIONS[rest]}' method does not support entities of type "
                        f"'{served.entity_set.entity_type}'",
                    )
                writer = self._writer(req, conn, None)
                return run_bulk_action(
                    BULK_ACTIONS[rest], req, served, writer, on_targets=self.count_bulk
                )
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
                return self._collections.get(req, conn, served, prefer)
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

    def _is_definitions(self, path: str) -> bool:
        head = path.split("/", 1)[0].split("(", 1)[0]
        definitions = head in (
            "EntityDefinitions",
            "RelationshipDefinitions",
            "RetrieveMetadataChanges",
        )
        return definitions and self.service.service.flavor == "dataverse"

    def _definitions_handler(self) -> DefinitionsHandler:
        if self._definitions is None:
            self._definitions = DefinitionsHandler(ServiceDefinitions.build(self.service.service))
        return self._definitions

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
            annotations=Annotations.of(prefer),
            expands=options.expand,
        )
        if record is None:
            raise not_found(served, key)
        context = context_url(req, served, options) + "/$entity"
        return json_response(
            200, {"@odata.context": context, **record}, annotations_applied(prefer)
        )

    # ---- writes -----------------------------------------------------------------------------

    def _writer(
        self, req: ODataRequest, conn: sqlite3.Connection, content_ids: dict[str, str] | None
    ) -> WriteContext:
        return WriteContext(
            conn, self.service, content_ids or {}, self._sql_cache, explain=self.explain
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
        record = read_one(conn, served, key, options.select, annotations=Annotations.of(prefer))
        context = context_url(req, served, options) + "/$entity"
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
