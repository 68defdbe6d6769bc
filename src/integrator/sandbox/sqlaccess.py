"""SQL connections straight to a sandbox's store files.

The benchmarks (and users who want to skip HTTP) point SQL connectors at ``sales.db``,
``cds.db`` and ``finops.db``. The stores' rules are triggers, so they hold on this path too.
What the files cannot tell a generic SQL connector is declared here: the polymorphic lookups
(an id column plus a type column) and the watermark column (``versionnumber``, stamped from a
per-database counter on every insert and update, so it never ties).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from integrator.connectors.base import EntityInfo
from integrator.connectors.sql import SqlConnector
from integrator.connectors.sql.config import Relation, SqlConnection
from integrator.connectors.sql.connector import create_engine
from integrator.sandbox.schema import Service
from integrator.sandbox.stores import SERVICES
from integrator.sandbox.stores.collation import register_text_functions

__all__ = ["SandboxSqlConnector", "sql_config", "sql_connectors"]

_TARGET_TABLES = {"account": ("accounts", "accountid"), "contact": ("contacts", "contactid")}


def _relations(service: Service) -> tuple[Relation, ...]:
    relations: list[Relation] = []
    for entity_set in service.entity_sets:
        for lookup in entity_set.lookups:
            for target in lookup.targets:
                table, key = _TARGET_TABLES[target]
                relations.append(
                    Relation(
                        entity=entity_set.table,
                        name=lookup.name,
                        column=lookup.column,
                        target=table,
                        target_key=key,
                        type_column=lookup.type_column,
                        type_value=target if lookup.type_column else None,
                    )
                )
    return tuple(relations)


def sql_config(data_dir: Path | str, service: str, **options: Any) -> SqlConnection:
    """The SQL connection for one of the sandbox's stores in ``data_dir``; ``options`` are
    ``page_size``, ``batch_size`` and :class:`~integrator.connectors.sql.config.SqlOptions`
    fields."""
    described = SERVICES[service]
    watermarks = {
        s.table: "versionnumber" for s in described.entity_sets if s.column("versionnumber")
    }
    path = Path(data_dir) / described.database
    sizes = {name: options.pop(name) for name in ("page_size", "batch_size") if name in options}
    sql = {
        "watermarks": watermarks,
        "relations": _relations(described),
        "case_insensitive_filters": described.flavor == "dataverse",
        **options,
    }
    return SqlConnection.model_validate({"url": f"sqlite:///{path}", "sql": sql, **sizes})


class SandboxSqlConnector(SqlConnector):
    """A SQL connector on a sandbox store that describes fields as the sandbox's ``$metadata``
    does: SQLite's STRICT tables keep no lengths or enum members, the service description does.
    """

    def __init__(self, service: Service, connection: SqlConnection) -> None:
        engine = create_engine(connection.database_url(), connection.sql)
        # the store files' NOCASE indexes are ordered by the sandbox's Unicode collation: every
        # connection that reads or writes them must compare the same way
        sa.event.listen(engine, "connect", lambda conn, _record: register_text_functions(conn))
        super().__init__(connection, engine=engine)
        # the store files compare keys as Dynamics does (their NOCASE collation)
        self.capabilities = replace(self.capabilities, key_collation="dynamics")
        self.service = service

    def describe(self, entity: str) -> EntityInfo:
        """The reflected description, with lengths, required flags and enums of the service."""
        info = super().describe(entity)
        entity_set = next((s for s in self.service.entity_sets if s.table == entity), None)
        if entity_set is None:
            return info
        fields = dict(info.fields)
        for name, field in info.fields.items():
            column = entity_set.column(name)
            if column is not None:
                fields[name] = replace(
                    field,
                    # SQLite stores a GUID as TEXT; the service knows it is one (and a GUID
                    # compared as a GUID keeps the key's index in play)
                    type=column.type if column.type == "guid" else field.type,
                    max_length=column.max_length or field.max_length,
                    required=column.required or field.required,
                    read_only=column.read_only or field.read_only,
                    enum_values=column.enum_values or field.enum_values,
                )
        return replace(info, fields=fields)


def sql_connectors(data_dir: Path | str, **options: Any) -> dict[str, SqlConnector]:
    """SQL connectors for ``sales``, ``cds`` and ``finops`` of the sandbox in ``data_dir``."""
    return {
        name: SandboxSqlConnector(SERVICES[name], sql_config(data_dir, name, **options))
        for name in ("sales", "cds", "finops")
    }
