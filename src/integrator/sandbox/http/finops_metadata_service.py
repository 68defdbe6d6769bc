"""F&O's ``/Metadata`` service: the sibling of the OData root ``/data`` that describes it.

Served (below ``<host>/Metadata/``; in the sandbox ``/finops/Metadata/``), read-only:

- the service document (``/Metadata/``): its four collections

- ``DataEntities``, ``DataEntities('CustCustomerV2Entity')``
- ``PublicEntities``, ``PublicEntities('CustomerV2')`` (keyed by the public entity name; the
  entity set name ``CustomersV2`` is its ``EntitySetName``, found with
  ``PublicEntities?$filter=EntitySetName eq 'CustomersV2'``)
- ``PublicEnumerations``, ``PublicEnumerations('NoYes')``
- ``Labels(Id='@SYS1',Language='en-US')``

Collections take ``$filter`` (the OData operators and ``contains``/``startswith``/
``endswith``/``tolower``/``toupper``, enum literals such as
``Microsoft.Dynamics.Metadata.EntityCategory'Master'``), ``$select`` (top-level properties),
``$orderby``, ``$top``, ``$skip`` and ``$count=true``; every other ``$`` option is refused with
400. String comparisons are case-sensitive here (clients use ``tolower`` to match loosely).
Bodies carry ``@odata.context`` ``<root>/Metadata/$metadata#<Collection>`` (``/$entity`` for one
record), as F&O answers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from integrator.errors import FilterSyntaxError
from integrator.odata.filter import Expr, Predicate, compile_filter, parse_filter, referenced_fields
from integrator.sandbox.http.errors import (
    BAD_REQUEST,
    INVALID_FILTER,
    INVALID_PROPERTY,
    NOT_FOUND,
    UNKNOWN_RESOURCE,
    ODataError,
)
from integrator.sandbox.http.finops_catalog import FinOpsCatalog
from integrator.sandbox.http.messages import ODataRequest, ODataResponse, json_response
from integrator.sandbox.http.model import ServedService

__all__ = ["FinOpsMetadataService", "metadata_service_path"]

_KNOWN_OPTIONS = {"$filter", "$select", "$orderby", "$top", "$skip", "$count", "$format"}
_SEGMENT = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<key>.*)\))?$", re.DOTALL)
_KEY_PART = re.compile(r"\s*(?:(?P<name>\w+)\s*=\s*)?'(?P<value>(?:[^']|'')*)'\s*(?:,|$)")


def metadata_service_path(data_root: str) -> str:
    """``/finops/Metadata/`` for the OData root ``/finops/data/`` (F&O's ``/Metadata`` is the
    sibling of ``/data``)."""
    trimmed = data_root.rstrip("/")
    parent = trimmed.rsplit("/", 1)[0]
    return f"{parent}/Metadata/"


def _parse_key(text: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _KEY_PART.match(text, position)
        if match is None or match.end() == position:
            raise ODataError(400, BAD_REQUEST, f"The key '({text})' is not a valid key")
        parts[match.group("name") or ""] = match.group("value").replace("''", "'")
        position = match.end()
    return parts


class FinOpsMetadataService:
    """Answers GET requests below ``/Metadata/`` from a :class:`FinOpsCatalog`."""

    def __init__(self, service: ServedService) -> None:
        self.catalog = FinOpsCatalog(service)
        self._collections: dict[str, tuple[list[dict[str, Any]], str]] = {
            "DataEntities": (self.catalog.data_entities, "Name"),
            "PublicEntities": (self.catalog.public_entities, "Name"),
            "PublicEnumerations": (self.catalog.enumerations, "Name"),
        }

    def answer(self, req: ODataRequest) -> ODataResponse:
        """The response to ``req``; raises :class:`ODataError` for what F&O refuses."""
        if req.method.upper() != "GET":
            raise ODataError(
                405, BAD_REQUEST, f"The method {req.method} is not allowed: /Metadata is read-only"
            )
        path = req.path.strip("/")
        if path == "":
            return self._service_document(req)
        match = _SEGMENT.match(path)
        if match is None:
            raise _unknown(path)
        name, key = match.group("name"), match.group("key")
        if name == "Labels" and key is not None:
            return self._label(req, _parse_key(key))
        if name not in self._collections:
            raise _unknown(path)
        records, key_name = self._collections[name]
        if key is None:
            return self._collection(req, name, records)
        parts = _parse_key(key)
        value = parts.get(key_name, parts.get(""))
        if value is None or set(parts) - {key_name, ""}:
            raise ODataError(400, BAD_REQUEST, f"{name} is keyed by {key_name} alone")
        for record in records:
            if record[key_name] == value:
                select = _select(req.query, record)
                context = f"{req.service_root}$metadata#{name}{_context_select(select)}/$entity"
                return json_response(200, {"@odata.context": context, **_project(record, select)})
        raise ODataError(404, NOT_FOUND, f"{name} has no entry with {key_name} '{value}'")

    def _collection(
        self, req: ODataRequest, name: str, records: list[dict[str, Any]]
    ) -> ODataResponse:
        options = _options(req.query)
        rows = records
        filter_text = options.get("$filter")
        if filter_text is not None:
            selects = _compiled(_parse(filter_text, records))
            rows = [r for r in rows if _matches(selects, r)]
        order = options.get("$orderby")
        if order:
            rows = _ordered(rows, order, records)
        total = len(rows)
        skip, top = _count_option(options, "$skip"), _count_option(options, "$top")
        rows = rows[skip or 0 :]
        if top is not None:
            rows = rows[:top]
        select = _select(req.query, records[0] if records else {})
        payload: dict[str, Any] = {
            "@odata.context": f"{req.service_root}$metadata#{name}{_context_select(select)}"
        }
        count = options.get("$count")
        if count is not None:
            if count not in ("true", "false"):
                raise ODataError(400, BAD_REQUEST, f"'{count}' is not a valid value for $count")
            if count == "true":
                payload["@odata.count"] = total
        payload["value"] = [_project(r, select) for r in rows]
        return json_response(200, payload)

    def _service_document(self, req: ODataRequest) -> ODataResponse:
        names = [*self._collections, "Labels"]
        return json_response(
            200,
            {
                "@odata.context": f"{req.service_root}$metadata",
                "value": [{"name": n, "kind": "EntitySet", "url": n} for n in names],
            },
        )

    def _label(self, req: ODataRequest, parts: dict[str, str]) -> ODataResponse:
        if set(parts) != {"Id", "Language"}:
            raise ODataError(400, BAD_REQUEST, "Labels are keyed by Id and Language")
        label_id, language = parts["Id"], parts["Language"]
        text = self.catalog.labels.get(label_id)
        if text is None or language.lower() != "en-us":
            raise ODataError(404, NOT_FOUND, f"No label '{label_id}' in language '{language}'")
        return json_response(
            200,
            {
                "@odata.context": f"{req.service_root}$metadata#Labels/$entity",
                "Id": label_id,
                "Language": language,
                "Value": text,
            },
        )


def _unknown(path: str) -> ODataError:
    return ODataError(404, UNKNOWN_RESOURCE, f"Resource not found for the segment '{path}'")


def _options(query: Sequence[tuple[str, str]]) -> dict[str, str]:
    options: dict[str, str] = {}
    for name, value in query:
        if not name.startswith("$"):
            continue  # custom query options are allowed by OData and ignored
        if name not in _KNOWN_OPTIONS:
            raise ODataError(
                400, BAD_REQUEST, f"The query parameter '{name}' is not supported here"
            )
        if name in options:
            raise ODataError(400, BAD_REQUEST, f"The query parameter '{name}' is given twice")
        options[name] = value
    return options


def _count_option(options: dict[str, str], name: str) -> int | None:
    text = options.get(name)
    if text is None:
        return None
    if not text.isdigit():
        raise ODataError(400, BAD_REQUEST, f"Invalid value '{text}' for {name}: a count is needed")
    return int(text)


def _select(query: Sequence[tuple[str, str]], sample: dict[str, Any]) -> list[str] | None:
    text = dict(query).get("$select")
    if text is None or text.strip() in ("", "*"):
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if sample and name not in sample:
            raise ODataError(
                400, INVALID_PROPERTY, f"Could not find a property named '{name}' on the type"
            )
    return names


def _context_select(select: list[str] | None) -> str:
    return f"({','.join(select)})" if select else ""


def _project(record: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    if select is None:
        return dict(record)
    return {name: record[name] for name in select}


def _parse(text: str, records: list[dict[str, Any]]) -> Expr:
    try:
        expr = parse_filter(text)
    except FilterSyntaxError as exc:
        raise ODataError(400, INVALID_FILTER, f"Invalid $filter: {exc}") from None
    for name in sorted(referenced_fields(expr)):
        if records and name not in records[0]:
            raise ODataError(
                400, INVALID_FILTER, f"Could not find a property named '{name}' on the type"
            )
    return expr


def _compiled(expr: Expr) -> Predicate:
    try:
        return compile_filter(expr, case_insensitive=False)
    except (KeyError, TypeError, ValueError) as exc:
        raise ODataError(400, INVALID_FILTER, f"Invalid $filter: {exc}") from None


def _matches(selects: Predicate, record: dict[str, Any]) -> bool:
    try:
        return selects(record)
    except (KeyError, TypeError, ValueError) as exc:
        raise ODataError(400, INVALID_FILTER, f"Invalid $filter: {exc}") from None


def _ordered(
    rows: list[dict[str, Any]], order: str, records: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    result = list(rows)
    clauses = [c.split() for c in order.split(",") if c.strip()]
    for clause in reversed(clauses):
        name = clause[0]
        descending = len(clause) > 1 and clause[1].lower() == "desc"
        if records and name not in records[0]:
            raise ODataError(
                400, INVALID_PROPERTY, f"Could not find a property named '{name}' on the type"
            )
        result.sort(key=functools.partial(_sort_key, name), reverse=descending)
    return result


def _sort_key(name: str, record: dict[str, Any]) -> tuple[bool, Any]:
    return (record[name] is None, record[name])
