"""Dataverse's ``RetrieveTotalRecordCount`` function: how many rows tables hold.

``GET RetrieveTotalRecordCount(EntityNames=['contact','account'])`` (or with a parameter alias,
``(EntityNames=@p1)?@p1=['contact']``) takes entity LOGICAL names and answers
``{"EntityRecordCountCollection": {"Count": 2, "IsReadOnly": false, "Keys": [...],
"Values": [...]}}``, one value per key, in the order asked. Dataverse answers from a snapshot
taken within the last 24 hours; the sandbox counts the rows now, which a snapshot may equal.
"""

from __future__ import annotations

import re
import sqlite3

import orjson
import sqlalchemy as sa

from integrator.sandbox.http.errors import BAD_REQUEST, NOT_FOUND, ODataError
from integrator.sandbox.http.messages import ODataRequest, ODataResponse, json_response
from integrator.sandbox.http.model import ServedService
from integrator.sandbox.http.query import compile_sql

__all__ = ["FUNCTION", "retrieve_total_record_count"]

FUNCTION = "RetrieveTotalRecordCount"
_CALL = re.compile(rf"^{FUNCTION}\(\s*EntityNames\s*=\s*(?P<value>.*)\)$", re.DOTALL)


def _entity_names(req: ODataRequest, path: str) -> list[str]:
    found = _CALL.match(path)
    if found is None:
        raise ODataError(
            400, BAD_REQUEST, f"{FUNCTION} needs its parameter: {FUNCTION}(EntityNames=[...])"
        )
    value = found.group("value").strip()
    if value.startswith("@"):
        aliases = dict(req.query)
        if value not in aliases:
            raise ODataError(400, BAD_REQUEST, f"The parameter alias {value} has no value")
        value = aliases[value].strip()
    try:
        # an OData collection literal of strings: JSON with single quotes ('' escapes a quote)
        names = orjson.loads(_as_json(value))
    except orjson.JSONDecodeError:
        names = None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ODataError(
            400, BAD_REQUEST, f"EntityNames must be a list of logical names, not {value}"
        )
    return names


def _as_json(literal: str) -> str:
    out, index = [], 0
    while index < len(literal):
        char = literal[index]
        if char != "'":
            out.append(char)
            index += 1
            continue
        end = index + 1
        text: list[str] = []
        while end < len(literal):
            if literal[end] == "'":
                if literal[end + 1 : end + 2] == "'":
                    text.append("'")
                    end += 2
                    continue
                break
            text.append(literal[end])
            end += 1
        out.append(orjson.dumps("".join(text)).decode())
        index = end + 1
    return "".join(out)


def retrieve_total_record_count(
    req: ODataRequest, path: str, conn: sqlite3.Connection, service: ServedService
) -> ODataResponse:
    """Answer ``GET RetrieveTotalRecordCount(EntityNames=[...])`` with the row counts."""
    names = _entity_names(req, path)
    by_logical = {s.entity_set.entity_type: s for s in service.sets.values()}
    values: list[int] = []
    for name in names:
        served = by_logical.get(name.lower())
        if served is None:
            raise ODataError(
                404,
                NOT_FOUND,
                f"The entity with a name = '{name}' with namemapping = 'Logical' was not found "
                "in the MetadataCache.",
            )
        sql, params = compile_sql(sa.select(sa.func.count()).select_from(served.table))
        values.append(int(conn.execute(sql, params).fetchone()[0]))
    return json_response(
        200,
        {
            "@odata.context": f"{req.service_root}$metadata"
            "#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse",
            "EntityRecordCountCollection": {
                "Count": len(names),
                "IsReadOnly": False,
                "Keys": names,
                "Values": values,
            },
        },
    )
