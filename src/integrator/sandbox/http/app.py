"""The sandbox's ASGI application: the three services under their base URLs, plus the admin
endpoints tests use.

- ``<base>/...``: the OData services (see :class:`~integrator.sandbox.http.handler.ServiceHandler`)
- ``/finops/Metadata/...``: F&O's metadata service beside its OData root (see
  :mod:`~integrator.sandbox.http.finops_metadata_service`)
- ``GET /_sandbox/faults``, ``PUT /_sandbox/faults``: the fault config
  (:class:`~integrator.sandbox.http.faults.FaultConfig` as JSON; PUT replaces it, fields left
  out take their defaults)
- ``GET /_sandbox/requests``: requests counted per service and method since the last reset;
  ``DELETE /_sandbox/requests`` resets the counts
- ``GET /_sandbox/health``: ``{"status": "ok", "services": {...base URLs}}``

A request body over the size limit (:mod:`~integrator.sandbox.http.limits`) is answered 413
without being read whole.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from integrator.sandbox.http.batch import parse_batch, run_batch
from integrator.sandbox.http.database import ServiceDatabase
from integrator.sandbox.http.errors import (
    BAD_REQUEST,
    INVALID_FILTER,
    UNKNOWN_RESOURCE,
    ODataError,
    error_body,
)
from integrator.sandbox.http.faults import FaultConfig, FaultInjector, RequestCounter
from integrator.sandbox.http.finops_metadata_service import (
    FinOpsMetadataService,
    metadata_service_path,
)
from integrator.sandbox.http.handler import AutoNumberSeeder, ServiceHandler
from integrator.sandbox.http.limits import MAX_ADMIN_BODY_BYTES, MAX_BODY_BYTES, read_body
from integrator.sandbox.http.messages import ODataRequest, ODataResponse, error_response
from integrator.sandbox.http.model import ServedService
from integrator.sandbox.http.writes import Explain
from integrator.sandbox.schema import Service

__all__ = ["SandboxApp", "StoreLike", "create_app"]

log = logging.getLogger(__name__)

_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


class StoreLike(Protocol):
    """What the HTTP layer needs of a store (``integrator.sandbox.stores.SandboxStore``)."""

    @property
    def services(self) -> Iterable[Service]: ...

    def connect(self, service_name: str) -> sqlite3.Connection: ...


def _store_explain(
    service: str, entity_set: str, record: dict[str, Any], text: str
) -> tuple[int, str] | None:
    from integrator.sandbox.stores import explain_violation

    violation = explain_violation(service, entity_set, record, text)
    return None if violation is None else (violation.status, violation.message)


def _store_seeder() -> AutoNumberSeeder:
    from integrator.sandbox.stores import set_autonumber_seed

    return set_autonumber_seed


class SandboxApp:
    """The services, their databases, the fault injector and the request counter."""

    def __init__(
        self,
        store: StoreLike,
        *,
        faults: FaultConfig | None = None,
        explain: Explain | None = None,
        set_autonumber_seed: AutoNumberSeeder | None = None,
        readers: int = 3,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        services = store.services
        #: the largest request body a service reads (413 beyond, see integrator.sandbox.http.limits)
        self.max_body_bytes = max_body_bytes
        if isinstance(services, Mapping):
            services = services.values()
        self.faults = FaultInjector(faults)
        self.counter = RequestCounter()
        self.handlers: dict[str, ServiceHandler] = {}
        self.databases: dict[str, ServiceDatabase] = {}
        #: F&O's ``/Metadata`` service, beside its OData root
        self.metadata_services: dict[str, FinOpsMetadataService] = {}
        seeder = set_autonumber_seed or _store_seeder()
        for service in services:
            self.handlers[service.name] = ServiceHandler(
                ServedService.build(service),
                explain=explain or _store_explain,
                set_autonumber_seed=seeder,
            )
            self.handlers[service.name].count_bulk = functools.partial(
                self.counter.count_bulk_targets, service.name
            )
            self.databases[service.name] = ServiceDatabase(
                service.name, functools.partial(store.connect, service.name), readers
            )
            if service.flavor == "finops":
                self.metadata_services[service.name] = FinOpsMetadataService(
                    self.handlers[service.name].service
                )

    def close(self) -> None:
        """Stop the database threads and close their connections."""
        for database in self.databases.values():
            database.close()

    # ---- services ---------------------------------------------------------------------------

    async def _answer(self, name: str, req: ODataRequest) -> ODataResponse:
        handler = self.handlers[name]
        database = self.databases[name]
        if req.path.strip("/") == "$batch":
            if req.method != "POST":
                raise ODataError(405, BAD_REQUEST, "$batch takes POST")
            items = parse_batch(req.body, req.headers.get("content-type", ""))
            for item in items:
                for op in getattr(item, "operations", [item]):
                    self.counter.count_operation(name, op.method)
            base = handler.service.service.base_path

            def batch(conn: sqlite3.Connection) -> ODataResponse:
                return run_batch(req, conn, items, handler.dispatch, base)

            return await database.write(batch)
        if handler.is_read(req):

            def read(conn: sqlite3.Connection) -> ODataResponse:
                conn.execute("BEGIN")
                try:
                    return handler.dispatch(req, conn)
                finally:
                    conn.execute("COMMIT")

            return await database.read(read)

        def write(conn: sqlite3.Connection) -> ODataResponse:
            conn.execute("BEGIN IMMEDIATE")
            try:
                response = handler.dispatch(req, conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return response

        return await database.write(write)

    async def serve(self, request: Request) -> Response:
        """Answer one HTTP request to a service (after faults and counting)."""
        name: str = request.scope["route_service"]
        handler = self.handlers[name]
        client = (
            request.headers.get("authorization")
            or request.headers.get("x-client-id")
            or (request.client.host if request.client else "")
        )
        fault, latency = self.faults.admit(name, client)
        await self.faults.delay(latency)
        if fault is not None:
            self.counter.count(name, request.method, fault.status)
            return _to_starlette(error_response(fault))
        try:
            try:
                body = await read_body(request, self.max_body_bytes)
            except ODataError as exc:
                self.counter.count(name, request.method, exc.status)
                return _to_starlette(error_response(exc))
            base_path = handler.service.service.base_path
            metadata_service = request.scope.get("route_metadata_service", False)
            if metadata_service:
                base_path = metadata_service_path(base_path)
            root = f"{request.url.scheme}://{request.url.netloc}{base_path}"
            req = ODataRequest(
                request.method,
                request.path_params.get("rest", ""),
                parse_qsl(request.url.query, keep_blank_values=True),
                {k.lower(): v for k, v in request.headers.items()},
                body,
                root,
            )
            try:
                if metadata_service:
                    response = self.metadata_services[name].answer(req)
                else:
                    response = await self._answer(name, req)
            except ODataError as exc:
                response = error_response(exc)
            except sqlite3.OperationalError as exc:
                refused = _too_complex(exc)
                if refused is None:
                    log.exception("sandbox: %s %s failed", request.method, request.url.path)
                response = refused if refused is not None else _internal_error(exc)
            except Exception as exc:
                log.exception("sandbox: %s %s failed", request.method, request.url.path)
                response = _internal_error(exc)
        finally:
            self.faults.release(client)
        self.counter.count(name, request.method, response.status)
        remaining = self.faults.remaining(client)
        if remaining is not None:
            response.headers["x-ms-ratelimit-burst-remaining-xrm-requests"] = str(remaining)
        return _to_starlette(response)

    # ---- admin ------------------------------------------------------------------------------

    async def admin_faults(self, request: Request) -> Response:
        """GET the fault config, or PUT a new one."""
        if request.method == "PUT":
            try:
                data = orjson.loads(await read_body(request, MAX_ADMIN_BODY_BYTES) or b"{}")
                if not isinstance(data, dict):
                    raise ValueError("the fault config must be a JSON object")
                self.faults.configure(FaultConfig.from_dict(data))
            except ODataError as exc:
                return _to_starlette(error_response(exc))
            except (ValueError, TypeError) as exc:
                return _json(400, {"error": {"code": BAD_REQUEST, "message": str(exc)}})
        return _json(200, self.faults.config.to_dict())

    async def admin_requests(self, request: Request) -> Response:
        """GET the request counts, or DELETE to reset them."""
        if request.method == "DELETE":
            self.counter.reset()
        return _json(200, self.counter.snapshot())

    async def admin_health(self, request: Request) -> Response:
        """Liveness and the service base paths."""
        paths = {n: h.service.service.base_path for n, h in self.handlers.items()}
        return _json(200, {"status": "ok", "services": paths})


#: what SQLite says of a query nested or chained beyond what its parser takes
_SQLITE_TOO_COMPLEX = ("parser stack overflow", "Expression tree is too large")


def _too_complex(exc: sqlite3.OperationalError) -> ODataResponse | None:
    """400 for a query SQLite cannot parse for its size (the parser limits keep $filter and
    FetchXML below it; this answers what slips through), else None."""
    if not any(text in str(exc) for text in _SQLITE_TOO_COMPLEX):
        return None
    return error_response(
        ODataError(
            400,
            INVALID_FILTER,
            f"The query is too complex for the sandbox's store ({exc}): use fewer conditions "
            "or less nesting",
        )
    )


def _internal_error(exc: Exception) -> ODataResponse:
    return ODataResponse(
        500,
        {"Content-Type": "application/json", "OData-Version": "4.0"},
        error_body("0x80040216", f"Internal error: {type(exc).__name__}: {exc}"),
    )


def _json(status: int, payload: Any) -> Response:
    return Response(orjson.dumps(payload), status, media_type="application/json")


def _to_starlette(response: ODataResponse) -> Response:
    headers = dict(response.headers)
    media_type = headers.pop("Content-Type", None)
    return Response(response.body, response.status, headers=headers, media_type=media_type)


def _service_endpoint(sandbox: SandboxApp, name: str, *, metadata_service: bool = False) -> Any:
    async def endpoint(request: Request) -> Response:
        request.scope["route_service"] = name
        request.scope["route_metadata_service"] = metadata_service
        return await sandbox.serve(request)

    return endpoint


def create_app(
    store: StoreLike,
    *,
    faults: FaultConfig | None = None,
    explain: Explain | None = None,
    set_autonumber_seed: AutoNumberSeeder | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """The ASGI app serving every service of ``store``; ``app.state.sandbox`` is the
    :class:`SandboxApp` (faults, counters). Database threads stop when the app shuts down.
    Request bodies over ``max_body_bytes`` are answered 413 without being read whole."""
    sandbox = SandboxApp(
        store,
        faults=faults,
        explain=explain,
        set_autonumber_seed=set_autonumber_seed,
        max_body_bytes=max_body_bytes,
    )
    routes = [
        Route("/_sandbox/faults", sandbox.admin_faults, methods=["GET", "PUT"]),
        Route("/_sandbox/requests", sandbox.admin_requests, methods=["GET", "DELETE"]),
        Route("/_sandbox/health", sandbox.admin_health, methods=["GET"]),
    ]
    for name, handler in sandbox.handlers.items():
        base = handler.service.service.base_path
        endpoint = _service_endpoint(sandbox, name)
        routes.append(Route(base + "{rest:path}", endpoint, methods=_METHODS))
        routes.append(Route(base.rstrip("/"), endpoint, methods=_METHODS))
        if name in sandbox.metadata_services:
            metadata = _service_endpoint(sandbox, name, metadata_service=True)
            metadata_base = metadata_service_path(base)
            routes.append(Route(metadata_base + "{rest:path}", metadata, methods=_METHODS))
            routes.append(Route(metadata_base.rstrip("/"), metadata, methods=_METHODS))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            sandbox.close()

    async def not_found(request: Request, exc: Exception) -> Response:
        message = f"Resource not found for the segment '{request.url.path}'"
        return _json(404, {"error": {"code": UNKNOWN_RESOURCE, "message": message}})

    async def not_allowed(request: Request, exc: Exception) -> Response:
        message = f"The method {request.method} is not allowed on {request.url.path}"
        return _json(405, {"error": {"code": BAD_REQUEST, "message": message}})

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_allowed},
    )
    app.state.sandbox = sandbox
    return app
