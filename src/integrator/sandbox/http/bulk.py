"""Dataverse's bulk operation messages on standard tables, and the catalogue that says which
tables offer them.

- ``POST <entityset>/Microsoft.Dynamics.CRM.CreateMultiple`` ``{"Targets": [...]}`` → 200
  ``{"@odata.context": ...#Microsoft.Dynamics.CRM.CreateMultipleResponse, "Ids": [...]}``;
- ``POST <entityset>/Microsoft.Dynamics.CRM.UpdateMultiple`` → 204; each target names its
  record by its primary key in the body (or ``@odata.id``);
- ``POST <entityset>/Microsoft.Dynamics.CRM.UpsertMultiple`` → 204 (the
  ``UpsertMultipleResponse`` is not returned); each target names its record by ``@odata.id``
  (``contacts(msdynce_contactnumber='X')``, an alternate key) or by its primary key in the body;
  one naming neither is created.

Every target must carry ``"@odata.type": "Microsoft.Dynamics.CRM.<table>"``. The request is one
transaction (standard tables): the first target that fails fails the whole request with that
record's own error, and nothing is written. There is no limit on the number of targets (only on
size and time). Sources: "Use bulk operation messages"
(powerapps-docs: developer/data-platform/bulk-operations.md) and the Web API action references
(learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/createmultiple,
updatemultiple, upsertmultiple).

``GET sdkmessagefilters?$select=sdkmessagefilterid&$filter=sdkmessageid/name eq @message and
primaryobjecttypecode eq @table&@message='UpsertMultiple'&@table='contact'`` answers, as the
"Availability with standard tables" section documents, one row when the table offers the
message and none when it does not. One ``GET`` may ask for several messages at once
(``(sdkmessageid/name eq 'CreateMultiple' or sdkmessageid/name eq 'UpsertMultiple') and
primaryobjecttypecode eq 'contact'``, any ``$filter`` over those two fields) with
``$expand=sdkmessageid($select=name)`` naming each row's message, as the Web API expands any
lookup.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection
from typing import Any

from integrator.errors import FilterSyntaxError
from integrator.odata.filter import compile_filter, parse_filter, referenced_fields
from integrator.sandbox.http.errors import BAD_REQUEST, INVALID_FILTER, ODataError
from integrator.sandbox.http.keys import format_key, resolve_key, split_resource
from integrator.sandbox.http.messages import ODataRequest, ODataResponse, json_response
from integrator.sandbox.http.model import ServedService, ServedSet
from integrator.sandbox.http.writes import WriteContext

__all__ = [
    "BULK_ACTIONS",
    "MESSAGE_FILTERS",
    "bulk_action_elements",
    "message_filters",
    "run_bulk_action",
]

_NAMESPACE = "Microsoft.Dynamics.CRM"
#: the bound actions, by their path segment
BULK_ACTIONS = {
    f"{_NAMESPACE}.CreateMultiple": "CreateMultiple",
    f"{_NAMESPACE}.UpdateMultiple": "UpdateMultiple",
    f"{_NAMESPACE}.UpsertMultiple": "UpsertMultiple",
}
#: the entity set of the SDK message filter catalogue
MESSAGE_FILTERS = "sdkmessagefilters"
_FILTER_ID = "sdkmessagefilterid"


def _targets(req: ODataRequest, action: str) -> list[dict[str, Any]]:
    body = req.json_body()
    if not isinstance(body, dict) or "Targets" not in body:
        raise ODataError(400, BAD_REQUEST, f"{action} needs a 'Targets' parameter")
    extra = sorted(set(body) - {"Targets"})
    if extra:
        raise ODataError(
            400, BAD_REQUEST, f"{action} has no parameter '{extra[0]}' (it takes Targets)"
        )
    targets = body["Targets"]
    if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
        raise ODataError(400, BAD_REQUEST, "'Targets' must be a collection of entities")
    if not targets:
        raise ODataError(400, BAD_REQUEST, f"{action} needs at least one entity in 'Targets'")
    return targets


def _check_type(served: ServedSet, target: dict[str, Any], number: int) -> None:
    expected = f"{_NAMESPACE}.{served.entity_set.entity_type}"
    given = target.get("@odata.type")
    if given is None:
        raise ODataError(
            400,
            BAD_REQUEST,
            f"Targets[{number}]: the @odata.type annotation is required for each entity "
            f"(expected '{expected}')",
        )
    if not isinstance(given, str) or given.removeprefix("#") != expected:
        raise ODataError(
            400,
            BAD_REQUEST,
            f"Targets[{number}]: @odata.type '{given}' is not the type of {served.name} "
            f"('{expected}'); all records must be of the same table",
        )


def _named_key(
    req: ODataRequest, served: ServedSet, target: dict[str, Any], number: int
) -> dict[str, Any] | None:
    """The key a target names: its ``@odata.id`` or its primary key in the body; else None."""
    reference = target.get("@odata.id")
    if reference is not None:
        if not isinstance(reference, str):
            raise ODataError(400, BAD_REQUEST, f"Targets[{number}]: @odata.id must be a URL")
        path = reference.removeprefix(req.service_root).lstrip("/")
        set_name, key_text, rest = split_resource(path)
        if set_name != served.name or key_text is None or rest:
            raise ODataError(
                400,
                BAD_REQUEST,
                f"Targets[{number}]: @odata.id '{reference}' does not name a record of "
                f"{served.name}",
            )
        return resolve_key(served, key_text)
    if all(target.get(k) is not None for k in served.key):
        return resolve_key(served, format_key(served, {k: target[k] for k in served.key})[1:-1])
    return None


def run_bulk_action(
    action: str,
    req: ODataRequest,
    served: ServedSet,
    writer: WriteContext,
    *,
    on_targets: Callable[[str, int], None] | None = None,
) -> ODataResponse:
    """Run ``CreateMultiple`` / ``UpdateMultiple`` / ``UpsertMultiple`` on ``served``.

    Runs in the caller's transaction and raises on the first failing target, so that the
    caller's rollback leaves nothing written (all or nothing, as on a standard table).
    ``on_targets`` is told how many records the request carries (for the request counter).
    """
    targets = _targets(req, action)
    if on_targets is not None:
        on_targets(action, len(targets))
    for number, target in enumerate(targets):
        _check_type(served, target, number)
    if action == "CreateMultiple":
        ids = [str(next(iter(writer.create(served, target).values()))) for target in targets]
        context = f"{req.service_root}$metadata#{_NAMESPACE}.CreateMultipleResponse"
        return json_response(200, {"@odata.context": context, "Ids": ids})
    for number, target in enumerate(targets):
        key = _named_key(req, served, target, number)
        if action == "UpdateMultiple":
            if key is None:
                raise ODataError(
                    400,
                    BAD_REQUEST,
                    f"Targets[{number}]: UpdateMultiple needs the record's key "
                    f"({', '.join(served.key)}) or @odata.id",
                )
            writer.upsert(served, key, target, if_match="*", if_none_match=False)
        elif key is None:
            writer.create(served, target)
        else:
            writer.upsert(served, key, target, if_match=None, if_none_match=False)
    return ODataResponse(204, {"OData-Version": "4.0"})


# ---- the message catalogue ---------------------------------------------------------------

_MESSAGE = "sdkmessageid"
#: what the catalogue's ``$filter`` may name: the message's name and the table's logical name
_CATALOGUE_FIELDS = ("sdkmessageid/name", "primaryobjecttypecode")
_EXPAND_NAME = re.compile(r"\s*sdkmessageid\s*(?:\(\s*\$select\s*=\s*name\s*\))?\s*")


def _selects(req: ODataRequest) -> Callable[[dict[str, Any]], bool]:
    query = dict(req.query)
    text = query.get("$filter")
    if text is None:
        raise ODataError(
            400, BAD_REQUEST, "The sandbox answers sdkmessagefilters only with a $filter"
        )
    aliases = {name: value for name, value in query.items() if name.startswith("@")}
    try:
        expr = parse_filter(text, aliases)
    except FilterSyntaxError as exc:
        raise ODataError(400, INVALID_FILTER, f"Invalid $filter: {exc}") from None
    unknown = sorted(referenced_fields(expr) - set(_CATALOGUE_FIELDS))
    if unknown:
        raise ODataError(
            400,
            BAD_REQUEST,
            f"The sandbox's sdkmessagefilters filters only on {' and '.join(_CATALOGUE_FIELDS)}"
            f", not on '{unknown[0]}'",
        )
    return compile_filter(expr, case_insensitive=True)


def _expands_message(req: ODataRequest) -> bool:
    expand = dict(req.query).get("$expand")
    if expand is None:
        return False
    if _EXPAND_NAME.fullmatch(expand) is None:
        raise ODataError(
            400,
            BAD_REQUEST,
            "The sandbox's sdkmessagefilters expands only sdkmessageid($select=name)",
        )
    return True


def message_filters(
    req: ODataRequest, service: ServedService, offered: Collection[str] | None
) -> ODataResponse:
    """The ``sdkmessagefilters`` rows matching the request's ``$filter`` (over
    ``sdkmessageid/name`` and ``primaryobjecttypecode``): one per table (of ``offered`` entity
    set names, or all) and bulk message; ``$expand=sdkmessageid($select=name)`` names each
    row's message."""
    select = dict(req.query).get("$select", _FILTER_ID)
    if {s.strip() for s in select.split(",")} - {_FILTER_ID, "primaryobjecttypecode"}:
        raise ODataError(
            400, BAD_REQUEST, "The sandbox's sdkmessagefilters selects only sdkmessagefilterid"
        )
    selects = _selects(req)
    expand = _expands_message(req)
    rows: list[dict[str, Any]] = []
    for served in service.sets.values():
        if offered is not None and served.name not in offered:
            continue
        table = served.entity_set.entity_type
        for message in BULK_ACTIONS.values():
            if not selects({"sdkmessageid/name": message, "primaryobjecttypecode": table}):
                continue
            filter_id = uuid.uuid5(uuid.NAMESPACE_URL, f"sdkmessagefilter/{message}/{table}")
            row: dict[str, Any] = {
                "@odata.etag": 'W/"1"',
                _FILTER_ID: str(filter_id),
                "primaryobjecttypecode": table,
            }
            if expand:
                message_id = uuid.uuid5(uuid.NAMESPACE_URL, f"sdkmessage/{message}")
                row[_MESSAGE] = {"name": message, _MESSAGE: str(message_id)}
            rows.append(row)
    context = f"{req.service_root}$metadata#{MESSAGE_FILTERS}({select})"
    return json_response(200, {"@odata.context": context, "value": rows})


# ---- $metadata -----------------------------------------------------------------------------


def bulk_action_elements(schema: ET.Element) -> None:
    """Add the bulk actions to a Dataverse ``$metadata`` schema (alias ``mscrm``), declared as
    Dataverse declares them: bound to ``Collection(mscrm.crmbaseentity)``, so for every table
    alike (which tables really offer them is the ``sdkmessagefilters`` catalogue's to say).

    Also declares ``mscrm.crmbaseentity`` when the schema has no such entity type yet.
    """
    has_base = any(
        e.tag.rsplit("}", 1)[-1] == "EntityType" and e.get("Name") == "crmbaseentity"
        for e in schema
    )
    if not has_base:
        ET.SubElement(schema, "EntityType", Name="crmbaseentity", Abstract="true")
    entities = "Collection(mscrm.crmbaseentity)"
    response = ET.SubElement(schema, "ComplexType", Name="CreateMultipleResponse")
    ET.SubElement(response, "Property", Name="Ids", Type="Collection(Edm.Guid)", Nullable="false")
    upserted = ET.SubElement(schema, "ComplexType", Name="UpsertMultipleResponse")
    ET.SubElement(
        upserted, "Property", Name="Results", Type="Collection(mscrm.UpsertResponse)",
        Nullable="false",
    )  # fmt: skip
    single = ET.SubElement(schema, "ComplexType", Name="UpsertResponse")
    ET.SubElement(single, "Property", Name="RecordCreated", Type="Edm.Boolean", Nullable="false")
    ET.SubElement(single, "Property", Name="Target", Type="mscrm.crmbaseentity")
    for message in BULK_ACTIONS.values():
        action = ET.SubElement(schema, "Action", Name=message, IsBound="true")
        ET.SubElement(action, "Parameter", Name="entityset", Type=entities, Nullable="false")
        ET.SubElement(action, "Parameter", Name="Targets", Type=entities, Nullable="false")
        if message != "UpdateMultiple":
            ET.SubElement(action, "ReturnType", Type=f"mscrm.{message}Response", Nullable="false")
