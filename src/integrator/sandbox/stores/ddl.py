"""Generic DDL: SQLite tables and indexes built from entity set descriptions.

Tables are STRICT so types hold whatever client writes to them; every text column compares
case-insensitively (``COLLATE NOCASE``) as Dynamics' SQL Server collation does.
"""

from __future__ import annotations

from integrator.sandbox.schema import Column, EntitySet, Service

__all__ = ["NOW_SQL", "create_schema_sql", "quote"]

#: the current time as Dynamics writes it: ISO-8601 UTC with milliseconds and ``Z``
NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

#: a random version-4 GUID in lower case, for keys a create does not carry
_NEW_GUID_SQL = (
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)"
    " || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2) || '-'"
    " || hex(randomblob(6)))"
)

_SQL_TYPES = {
    "string": "TEXT",
    "guid": "TEXT",
    "enum": "TEXT",
    "datetime": "TEXT",
    "lookup": "TEXT",
    "integer": "INTEGER",
    "boolean": "INTEGER",
    "decimal": "REAL",
}

#: indexes the rules and lookups query by, beyond keys and alternate keys
_RULE_INDEXES: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = {
    ("finops", "CustomersV2"): (("dataAreaId", "PartyNumber"),),
    ("finops", "Warehouses"): (("dataAreaId", "OperationalSiteId", "WarehouseId"),),
    ("cds", "contacts"): (
        ("PrimaryAccount_Organization_OrganizationId", "PrimaryAccount_AccountId"),
    ),
}


def quote(identifier: str) -> str:
    """``identifier`` quoted for SQL (names come from descriptions, never from requests)."""
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def _column_sql(es: EntitySet, column: Column) -> str:
    parts = [quote(column.name), _SQL_TYPES[column.type]]
    if column.name in es.key:
        parts.append("NOT NULL")
        if len(es.key) == 1 and column.type == "guid":
            parts.append(f"DEFAULT ({_NEW_GUID_SQL})")
    if column.default is not None:
        parts.append(f"DEFAULT {_literal(column.default)}")
    if _SQL_TYPES[column.type] == "TEXT":
        parts.append("COLLATE NOCASE")
    return " ".join(parts)


def _table_sql(es: EntitySet) -> str:
    defs = [_column_sql(es, c) for c in es.columns]
    for lk in es.lookups:
        defs.append(f"{quote(lk.column)} TEXT COLLATE NOCASE")
        if lk.type_column:
            defs.append(f"{quote(lk.type_column)} TEXT")
    defs.append(f"PRIMARY KEY ({', '.join(quote(k) for k in es.key)})")
    body = ",\n  ".join(defs)
    return f"CREATE TABLE IF NOT EXISTS {quote(es.table)} (\n  {body}\n) STRICT"


def _index_sql(name: str, table: str, columns: tuple[str, ...], *, unique: bool = False) -> str:
    kind = "UNIQUE INDEX" if unique else "INDEX"
    cols = ", ".join(quote(c) for c in columns)
    return f"CREATE {kind} IF NOT EXISTS {quote(name)} ON {quote(table)} ({cols})"


def create_schema_sql(service: Service) -> list[str]:
    """The statements creating ``service``'s tables and indexes; safe to run again."""
    statements: list[str] = []
    for es in service.entity_sets:
        statements.append(_table_sql(es))
        for ak in es.alternate_keys:
            statements.append(
                _index_sql(f"ak_{es.table}_{'_'.join(ak)}", es.table, ak, unique=True)
            )
        for lk in es.lookups:
            statements.append(_index_sql(f"ix_{es.table}_{lk.column}", es.table, (lk.column,)))
        if es.column("versionnumber") is not None:
            statements.append(
                _index_sql(f"ix_{es.table}_versionnumber", es.table, ("versionnumber",))
            )
        for cols in _RULE_INDEXES.get((service.name, es.name), ()):
            statements.append(_index_sql(f"ix_{es.table}_{'_'.join(cols)}", es.table, cols))
    return statements
