"""``GET RetrieveMetadataChanges(Query=@p1)?@p1=<EntityQueryExpression JSON>``: table and column
definitions, derived column properties included, in one request.

Follows ``powerapps-docs/developer/data-platform/query-schema-definitions.md`` and the examples
in ``.../column-level-security.md`` (request and response), with the Web API reference pages
``webapi/reference/retrievemetadatachanges``, ``.../entityqueryexpression``,
``.../metadatafilterexpression``, ``.../metadataconditionexpression``:

- ``Criteria`` / ``AttributeQuery.Criteria``: ``Conditions`` of ``{PropertyName,
  ConditionOperator, Value: {Type, Value}}`` joined by ``FilterOperator`` (``And`` by default);
  operators ``Equals``, ``NotEquals``, ``In``, ``NotIn``; values of ``System.String``,
  ``System.Boolean`` (``"true"``/``"True"``), ``System.Int32``, ``System.String[]`` and enum
  types (``Microsoft.Xrm.Sdk.Metadata.AttributeTypeCode``, ``...AttributeTypeDisplayName``);
- ``Properties``: ``PropertyNames`` (or ``AllProperties``); the response keeps every modelled
  property, those not asked for as ``null`` (the doc's responses are "edited to remove null
  property values"); ``MetadataId`` always; columns carry their ``LogicalName`` too;
- ``Attributes`` and ``Keys`` appear only when named in the table's ``PropertyNames``;
- the answer: ``@odata.context``
  ``$metadata#Microsoft.Dynamics.CRM.RetrieveMetadataChangesResponse``, ``ServerVersionStamp``,
  ``DeletedMetadata`` (empty: nothing is ever deleted here) and ``EntityMetadata``.
  ``ClientVersionStamp`` is accepted; everything is returned each time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from integrator.sandbox.http.definitions import AttributeDefinition, ServiceDefinitions
from integrator.sandbox.http.errors import BAD_REQUEST, ODataError
from integrator.sandbox.http.messages import ODataRequest, ODataResponse, json_response

__all__ = ["metadata_changes"]

_ALIAS = re.compile(r"^Query\s*=\s*(@\w+)$")
_STAMP = "1000!01/01/2026 00:00:00"


def _query(req: ODataRequest, key: str | None) -> Mapping[str, Any]:
    match = _ALIAS.match((key or "").strip())
    if match is None:
        raise ODataError(
            400, BAD_REQUEST, "RetrieveMetadataChanges needs its Query parameter: (Query=@p1)"
        )
    alias = match.group(1)
    text = next((v for k, v in req.query if k == alias), None)
    if text is None:
        raise ODataError(400, BAD_REQUEST, f"The parameter alias {alias} has no value")
    try:
        query = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ODataError(400, BAD_REQUEST, f"The Query is not valid JSON: {exc}") from None
    if not isinstance(query, dict):
        raise ODataError(400, BAD_REQUEST, "The Query must be an EntityQueryExpression object")
    return query


def _literal(value: Mapping[str, Any]) -> Any:
    kind = str(value.get("Type", "System.String"))
    raw = value.get("Value")
    if kind == "System.Boolean":
        return str(raw).strip().lower() == "true" if not isinstance(raw, bool) else raw
    if kind == "System.Int32":
        return int(raw) if raw is not None else None
    if kind.endswith("[]"):
        if isinstance(raw, list):
            return [str(v) for v in raw]
        return re.findall(r"'((?:[^']|'')*)'", str(raw))
    return raw


def _matches(criteria: Any, record: Mapping[str, Any]) -> bool:
    if not isinstance(criteria, Mapping):
        return True
    conditions = criteria.get("Conditions") or []
    results = []
    for condition in conditions:
        name = condition.get("PropertyName")
        if name not in record:
            raise ODataError(
                400, BAD_REQUEST, f"The property '{name}' cannot be used in a metadata condition"
            )
        actual = record[name]
        if isinstance(actual, Mapping) and "Value" in actual:  # managed and display-name types
            actual = actual["Value"]
        expected = _literal(condition.get("Value") or {})
        operator = condition.get("ConditionOperator", "Equals")
        if operator == "Equals":
            results.append(actual == expected)
        elif operator == "NotEquals":
            results.append(actual != expected)
        elif operator == "In":
            results.append(actual in expected)
        elif operator == "NotIn":
            results.append(actual not in expected)
        else:
            raise ODataError(
                400, BAD_REQUEST, f"The condition operator '{operator}' is not supported here"
            )
    if not results:
        return True
    return any(results) if criteria.get("FilterOperator") == "Or" else all(results)


def _names(properties: Any) -> Sequence[str] | None:
    """The property names asked for, or ``None`` for all."""
    if not isinstance(properties, Mapping) or properties.get("AllProperties") in (True, "true"):
        return None
    return [str(n) for n in properties.get("PropertyNames") or []]


def _shape(record: Mapping[str, Any], names: Sequence[str] | None, *always: str) -> dict[str, Any]:
    if names is None:
        return dict(record)
    keep = {*names, "MetadataId", *always}
    return {k: (v if k in keep else None) for k, v in record.items()}


def _attribute(attribute: AttributeDefinition, names: Sequence[str] | None) -> dict[str, Any]:
    full = dict(attribute.properties)
    if attribute.option_set is not None:
        full["OptionSet"] = attribute.option_set
    return {
        "@odata.type": f"#Microsoft.Dynamics.CRM.Complex{attribute.type_name}",
        **_shape(full, names, "LogicalName"),
    }


def metadata_changes(
    definitions: ServiceDefinitions, req: ODataRequest, key: str | None
) -> ODataResponse:
    """Answer ``RetrieveMetadataChanges(Query=@p1)``; raises ``ODataError`` (400) when the
    query is malformed or uses what the sandbox does not evaluate."""
    query = _query(req, key)
    entity_names = _names(query.get("Properties"))
    attribute_query = query.get("AttributeQuery") or {}
    attribute_names = _names(attribute_query.get("Properties"))
    key_names = _names((query.get("KeyQuery") or {}).get("Properties"))
    out: list[dict[str, Any]] = []
    for entity in definitions.entities.values():
        if not _matches(query.get("Criteria"), entity.properties):
            continue
        item = _shape(entity.properties, entity_names)
        if entity_names is None or "Attributes" in entity_names:
            item["Attributes"] = [
                _attribute(a, attribute_names)
                for a in entity.attributes
                if _matches(attribute_query.get("Criteria"), a.properties)
            ]
        if entity_names is None or "Keys" in entity_names:
            item["Keys"] = [_shape(k, key_names) for k in entity.keys]
        out.append(item)
    return json_response(
        200,
        {
            "@odata.context": (
                f"{req.service_root}$metadata#Microsoft.Dynamics.CRM.RetrieveMetadataChangesResponse"
            ),
            "ServerVersionStamp": _STAMP,
            "DeletedMetadata": {"Count": 0, "IsReadOnly": False, "Keys": [], "Values": []},
            "EntityMetadata": out,
        },
    )
