"""Reflect a table into what the connector needs: the SQLAlchemy table, its EntityInfo, relations.

SQLite quirks are smoothed here once: date/time columns are read and written as the text the
file holds (SQLAlchemy's SQLite DATETIME parser rejects ISO-8601 with a ``T``), and NUMERIC
columns as floats (sqlite3 cannot bind ``Decimal``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from integrator.connectors.base import EntityInfo, FieldInfo, FieldType
from integrator.connectors.sql.config import Relation, SqlOptions
from integrator.connectors.sql.values import ColumnConverter, writer
from integrator.errors import RequestRejected

__all__ = ["LookupTarget", "TableModel", "reflect_table", "storage_type"]


@dataclass(frozen=True)
class LookupTarget:
    """One target of a lookup: the joined table and how to join it."""

    column: str
    target: sa.Table
    target_key: str
    type_column: str | None = None
    type_value: str | None = None


@dataclass
class TableModel:
    """A reflected table: the SQLAlchemy ``Table``, its description and its lookups."""

    table: sa.Table
    info: EntityInfo
    #: column -> how values are coerced (the storage type, before ``lookup`` relabelling)
    kinds: Mapping[str, FieldType]
    #: lookup name -> its targets (several when polymorphic)
    lookups: Mapping[str, list[LookupTarget]] = field(default_factory=dict)
    #: check constraint name -> its SQL text, to explain a violation
    checks: Mapping[str, str] = field(default_factory=dict)
    #: single-column foreign keys: column -> (target table, target column)
    foreign_keys: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: the SQLAlchemy dialect name (``sqlite``, ``postgresql``, ...)
    dialect: str = ""
    #: SQLite: a refused row undoes only its own statement and no row vanishes or half-happens
    #: without an error (a table whose definition and triggers use no IGNORE or FAIL conflict
    #: handling), so a bulk write may carry on after a refused row (``continuing.py``)
    continues_after_refusal: bool = False

    @functools.cached_property
    def writable(self) -> dict[str, ColumnConverter]:
        """Columns a record may set -> how a value becomes the column's (chosen once)."""
        return {
            c.name: writer(c.name, self.kinds[c.name], c.type)
            for c in self.table.columns
            if not self.info.fields[c.name].read_only
        }

    @property
    def paging_key(self) -> tuple[str, ...]:
        """Columns that order and page the table: the primary key, else a NOT NULL unique key."""
        if self.info.key:
            return self.info.key
        for candidate in self.info.alternate_keys:
            if all(not self.table.c[c].nullable for c in candidate):
                return candidate
        return ()


def storage_type(column_type: sa.types.TypeEngine[object]) -> FieldType:
    """The protocol's field type for a SQL column type."""
    if isinstance(column_type, sa.Boolean):
        return "boolean"
    if isinstance(column_type, sa.Integer):
        return "integer"
    if isinstance(column_type, sa.Numeric):  # Float is a Numeric too
        return "decimal"
    if isinstance(column_type, sa.DateTime | sa.Date | sa.Time):
        return "datetime"
    if isinstance(column_type, sa.Uuid):
        return "guid"
    if isinstance(column_type, sa.Enum):
        return "enum"
    return "string"


def reflect_table(engine: Engine, options: SqlOptions, entity: str) -> TableModel:
    """Reflect ``entity`` (a table or view name); raises ``RequestRejected`` when it is absent."""
    metadata = sa.MetaData()
    try:
        table = sa.Table(entity, metadata, autoload_with=engine, schema=options.db_schema)
    except sa.exc.NoSuchTableError:
        raise RequestRejected(
            f"no table {entity!r} in the database", code="unknown-entity"
        ) from None
    inspector = sa.inspect(engine)
    sqlite = engine.dialect.name == "sqlite"
    kinds = {c.name: storage_type(c.type) for c in table.columns}

    pk = tuple(c.name for c in table.primary_key.columns)
    alternate = _alternate_keys(inspector, entity, options.db_schema, pk, sqlite=sqlite)
    checks = _check_constraints(inspector, entity, options.db_schema)
    foreign_keys: dict[str, tuple[str, str]] = {}
    for fk in table.foreign_key_constraints:
        if len(fk.elements) == 1:
            element = fk.elements[0]
            foreign_keys[element.parent.name] = (element.column.table.name, element.column.name)

    lookups = _lookups(engine, options, table, metadata, foreign_keys)
    if sqlite:
        for reflected in metadata.tables.values():
            _sqlite_friendly_types(reflected)
    lookup_columns: dict[str, tuple[str, ...]] = {}
    for lookup in lookups.values():
        for t in lookup:
            lookup_columns[t.column] = (*lookup_columns.get(t.column, ()), t.target.name)

    auto = table.autoincrement_column
    fields: dict[str, FieldInfo] = {}
    for column in table.columns:
        kind = kinds[column.name]
        has_default = column.server_default is not None or column.identity is not None
        is_auto = auto is not None and column.name == auto.name
        required = (not column.nullable or column.name in pk) and not has_default and not is_auto
        computed = column.computed is not None or (
            column.identity is not None and column.identity.always is True
        )
        enums = column.type.enums if isinstance(column.type, sa.Enum) else None
        enum_values = tuple(enums) if enums else None
        targets = lookup_columns.get(column.name, ())
        fields[column.name] = FieldInfo(
            name=column.name,
            type="lookup" if targets else kind,
            max_length=getattr(column.type, "length", None) if kind == "string" else None,
            required=required,
            read_only=computed,
            enum_values=enum_values,
            lookup_targets=targets,
        )
    info = EntityInfo(name=entity, fields=fields, key=pk, alternate_keys=alternate)
    return TableModel(
        table=table,
        info=info,
        kinds=kinds,
        lookups=lookups,
        checks=checks,
        foreign_keys=foreign_keys,
        dialect=engine.dialect.name,
        continues_after_refusal=sqlite and _continues_after_refusal(engine, entity, options),
    )


#: conflict handling under which a row is dropped, or half of a statement kept, without an error
_SILENT_CONFLICT = re.compile(r"\b(IGNORE|FAIL)\b", re.IGNORECASE)


def _continues_after_refusal(engine: Engine, entity: str, options: SqlOptions) -> bool:
    """Whether ``entity`` is a SQLite table whose definition and triggers name no ``IGNORE``
    or ``FAIL`` (``RAISE(IGNORE)``, ``ON CONFLICT IGNORE``, ``OR FAIL``...): then a refused row
    of an ``executemany`` undoes its own statement only and every other row counts."""
    master = sa.table(
        "sqlite_master",
        sa.column("type"),
        sa.column("name"),
        sa.column("tbl_name"),
        sa.column("sql"),
        schema=options.db_schema,
    )
    query = sa.select(master.c.type, master.c.sql).where(
        sa.or_(
            sa.and_(
                master.c.type.in_(["table", "view"]),
                sa.collate(master.c.name, "NOCASE") == entity,
            ),
            sa.and_(master.c.type == "trigger", sa.collate(master.c.tbl_name, "NOCASE") == entity),
        )
    )
    with engine.connect() as connection:
        found = [(str(kind), sql) for kind, sql in connection.execute(query)]
    kinds = {kind for kind, _ in found}
    text = "\n".join(sql or "" for _, sql in found)
    return kinds <= {"table", "trigger"} and "table" in kinds and not _SILENT_CONFLICT.search(text)


def _sqlite_friendly_types(table: sa.Table) -> None:
    for column in table.columns:
        if isinstance(column.type, sa.DateTime | sa.Date | sa.Time):
            column.type = sa.String()
        elif isinstance(column.type, sa.Numeric) and not isinstance(column.type, sa.Integer):
            column.type = sa.Float()


def _alternate_keys(
    inspector: sa.Inspector,
    entity: str,
    schema: str | None,
    pk: tuple[str, ...],
    *,
    sqlite: bool,
) -> tuple[tuple[str, ...], ...]:
    keys: list[tuple[str, ...]] = []
    for constraint in inspector.get_unique_constraints(entity, schema=schema):
        keys.append(tuple(c for c in constraint["column_names"] if c is not None))
    # SQLite reports a column's inline UNIQUE only as an automatic index
    options = {"include_auto_indexes": True} if sqlite else {}
    for index in inspector.get_indexes(entity, schema=schema, **options):
        if index.get("unique") and not index.get("expressions"):
            keys.append(tuple(c for c in index["column_names"] if c is not None))
    unique: list[tuple[str, ...]] = []
    for key in keys:
        if key and key != pk and key not in unique:
            unique.append(key)
    return tuple(unique)


def _check_constraints(inspector: sa.Inspector, entity: str, schema: str | None) -> dict[str, str]:
    try:
        found = inspector.get_check_constraints(entity, schema=schema)
    except NotImplementedError:
        return {}
    return {str(c["name"]): str(c["sqltext"]) for c in found if c.get("name")}


def _lookups(
    engine: Engine,
    options: SqlOptions,
    table: sa.Table,
    metadata: sa.MetaData,
    foreign_keys: Mapping[str, tuple[str, str]],
) -> dict[str, list[LookupTarget]]:
    lookups: dict[str, list[LookupTarget]] = {}
    for column, (target_name, target_key) in foreign_keys.items():
        target = metadata.tables.get(_qualified(target_name, options.db_schema))
        if target is None:
            target = sa.Table(target_name, metadata, autoload_with=engine, schema=options.db_schema)
        lookups[column] = [LookupTarget(column, target, target_key)]
    declared: dict[str, list[Relation]] = options.relations_of(table.name)
    for name, relations in declared.items():
        targets = []
        for relation in relations:
            target = metadata.tables.get(_qualified(relation.target, options.db_schema))
            if target is None:
                try:
                    target = sa.Table(
                        relation.target, metadata, autoload_with=engine, schema=options.db_schema
                    )
                except sa.exc.NoSuchTableError:
                    raise RequestRejected(
                        f"relation {table.name}.{name}: no table {relation.target!r}",
                        code="unknown-entity",
                    ) from None
            targets.append(
                LookupTarget(
                    relation.column,
                    target,
                    relation.target_key,
                    relation.type_column,
                    relation.type_value,
                )
            )
        lookups[name] = targets
    return lookups


def _qualified(name: str, schema: str | None) -> str:
    return f"{schema}.{name}" if schema else name
