"""Compile a leg's mapping rows once; apply them to whole batches, column by column."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Literal, cast

from integrator.connectors.base import EntityInfo, FieldInfo
from integrator.errors import ConfigError, ConfigProblem
from integrator.mapping.convert import (
    ConversionFailed,
    can_convert,
    column_converter,
    convert_value,
)
from integrator.mapping.registry import (
    ColumnStep,
    Transform,
    TransformError,
    build_transform,
    chain_sources,
)
from integrator.mapping.rows import MappingRow
from integrator.mapping.transforms import TruncateStep

__all__ = [
    "CompiledMapping",
    "FieldError",
    "MappedBatch",
    "RowProblem",
    "Shortened",
    "check_rows",
    "compile_mapping",
]

RowPart = Literal["destination", "source", "transforms", "row"]


@dataclass(frozen=True)
class FieldError:
    """Why record ``index`` of a batch could not be mapped into ``field``."""

    index: int
    field: str
    message: str


@dataclass(frozen=True)
class Shortened:
    """Truncate cut record ``index``'s value for ``field`` from ``length`` to ``limit``."""

    index: int
    field: str
    limit: int
    length: int


@dataclass
class MappedBatch:
    """The records that mapped, the batch index each came from, the records that did not, and
    the values Truncate shortened in the records that mapped."""

    records: list[dict[str, Any]]
    indexes: list[int]
    errors: list[FieldError] = field(default_factory=list)
    shortened: list[Shortened] = field(default_factory=list)


@dataclass(frozen=True)
class RowProblem:
    """A problem with mapping row ``row`` (0-based): which part of it, and what is wrong."""

    row: int
    part: RowPart
    message: str
    transform: int | None = None


def _field_map(entity: EntityInfo | Mapping[str, FieldInfo]) -> Mapping[str, FieldInfo]:
    return entity.fields if isinstance(entity, EntityInfo) else entity


def _source_field(fields: Mapping[str, FieldInfo], path: str) -> FieldInfo | bool | None:
    """The source field ``path`` names; ``True`` for a lookup path we cannot type; ``None``."""
    if path in fields:
        return fields[path]
    head = path.split(".", 1)[0]
    if "." in path and (head in fields or f"_{head}_value" in fields):
        return True
    return None


def check_rows(
    rows: Sequence[MappingRow],
    destination: EntityInfo | Mapping[str, FieldInfo],
    source: EntityInfo | Mapping[str, FieldInfo] | None = None,
) -> list[RowProblem]:
    """Every problem in ``rows`` against the destination (and, when given, source) fields.

    Reports unknown fields, a destination mapped twice, unknown transforms or bad parameters,
    types that can never convert, and constant values (defaults, value-map targets) that do not
    fit the destination field.
    """
    dest_fields = _field_map(destination)
    src_fields = None if source is None else _field_map(source)
    dest_name = destination.name if isinstance(destination, EntityInfo) else "the destination"
    src_name = source.name if isinstance(source, EntityInfo) else "the source" if source else ""
    problems: list[RowProblem] = []
    first_row: dict[str, int] = {}
    for i, row in enumerate(rows):
        target = dest_fields.get(row.destination)
        if target is None:
            problems.append(
                RowProblem(
                    i, "destination", f"field '{row.destination}' does not exist on {dest_name}"
                )
            )
        elif target.read_only:
            problems.append(RowProblem(i, "destination", f"field '{row.destination}' is read-only"))
        if row.destination in first_row:
            problems.append(
                RowProblem(
                    i,
                    "destination",
                    f"field '{row.destination}' is already mapped by row "
                    f"{first_row[row.destination] + 1}",
                )
            )
        else:
            first_row[row.destination] = i
        src_info: FieldInfo | bool | None = True
        if row.source is not None and src_fields is not None:
            src_info = _source_field(src_fields, row.source)
            if src_info is None:
                problems.append(
                    RowProblem(i, "source", f"field '{row.source}' does not exist on {src_name}")
                )
        transforms: list[Transform] = []
        for t_index, spec in enumerate(row.transforms):
            try:
                transforms.append(build_transform(spec))
            except TransformError as exc:
                problems.append(RowProblem(i, "transforms", str(exc), t_index))
        if src_fields is not None:
            for extra in chain_sources(transforms):
                if _source_field(src_fields, extra) is None:
                    problems.append(
                        RowProblem(i, "transforms", f"field '{extra}' does not exist on {src_name}")
                    )
        if target is None:
            continue
        if (
            isinstance(src_info, FieldInfo)
            and not row.transforms
            and not can_convert(src_info.type, target.type)
        ):
            problems.append(
                RowProblem(
                    i,
                    "source",
                    f"'{row.source}' ({src_info.type}) cannot convert to "
                    f"'{row.destination}' ({target.type})",
                )
            )
        for t_index, transform in enumerate(transforms):
            for value in transform.constant_values():
                try:
                    convert_value(value, target)
                except ConversionFailed as exc:
                    problems.append(
                        RowProblem(
                            i,
                            "transforms",
                            f"{transform.type_name} value does not fit '{row.destination}' "
                            f"({target.type}): {exc}",
                            t_index,
                        )
                    )
    return problems


_dict_get = cast(Callable[[Mapping[str, Any], str], Any], dict.get)


class _Columns:
    """Source columns of one batch, each extracted once."""

    __slots__ = ("_batch", "_cache")

    def __init__(self, batch: Sequence[Mapping[str, Any]]) -> None:
        self._batch = batch
        self._cache: dict[str, list[Any]] = {}

    def column(self, name: str) -> list[Any]:
        values = self._cache.get(name)
        if values is None:
            try:
                # C-level loop; `repeat` with a count lets `list` size itself up front
                values = list(map(_dict_get, self._batch, repeat(name, len(self._batch))))
            except TypeError:  # records that are mappings but not dicts
                values = [r.get(name) for r in self._batch]
            self._cache[name] = values
        return values


class _NoColumns:
    def column(self, name: str) -> list[Any]:
        raise LookupError(name)


@dataclass(frozen=True)
class _CompiledRow:
    destination: str
    source: str | None
    steps: tuple[ColumnStep, ...]
    convert: Any
    constant: Any = None
    is_constant: bool = False


class CompiledMapping:
    """A leg's mapping rows, compiled once against the destination's fields.

    :meth:`apply` maps a whole batch column-wise. ``source_fields`` lists every source field
    (dotted lookups included) the rows read, for the connector's ``read``.
    """

    def __init__(self, rows: Sequence[_CompiledRow], source_fields: Sequence[str]) -> None:
        self._rows = tuple(rows)
        self.destination_fields: tuple[str, ...] = tuple(r.destination for r in rows)
        self.source_fields: tuple[str, ...] = tuple(source_fields)

    def apply(self, batch: Sequence[Mapping[str, Any]]) -> MappedBatch:
        """Map ``batch``; a record with any field error is left out and reported instead."""
        n = len(batch)
        if n == 0:
            return MappedBatch([], [], [])
        columns = _Columns(batch)
        out_columns: list[Any] = []
        errors: list[FieldError] = []
        shortened: list[Shortened] = []
        for row in self._rows:
            if row.is_constant:
                out_columns.append(repeat(row.constant, n))
                continue
            values = columns.column(row.source) if row.source is not None else [None] * n
            failed: dict[int, str] = {}
            for step in row.steps:
                if isinstance(step, TruncateStep):
                    shortened.extend(
                        Shortened(i, row.destination, step.limit, length)
                        for i, length in step.shortened(values)
                    )
                values = step(values, failed, columns)
            values = row.convert(values, failed)
            if failed:
                errors.extend(FieldError(i, row.destination, m) for i, m in failed.items())
            out_columns.append(values)
        names = self.destination_fields
        records = [
            dict(zip(names, values, strict=False)) for values in zip(*out_columns, strict=False)
        ]
        if not errors:
            return MappedBatch(records, list(range(n)), [], shortened)
        bad = {e.index for e in errors}
        keep = [i for i in range(n) if i not in bad]
        errors.sort(key=lambda e: e.index)
        kept_shortened = [s for s in shortened if s.index not in bad]
        return MappedBatch([records[i] for i in keep], keep, errors, kept_shortened)


def compile_mapping(
    rows: Sequence[MappingRow],
    destination: EntityInfo | Mapping[str, FieldInfo],
    source: EntityInfo | Mapping[str, FieldInfo] | None = None,
) -> CompiledMapping:
    """Compile ``rows`` for ``destination`` (its fields give types and lengths).

    Raises :class:`integrator.errors.ConfigError` listing every problem :func:`check_rows` finds.
    """
    problems = check_rows(rows, destination, source)
    if problems:
        raise ConfigError(
            [
                ConfigProblem(file="", line=None, path=f"row {p.row + 1}", message=p.message)
                for p in problems
            ]
        )
    dest_fields = _field_map(destination)
    compiled: list[_CompiledRow] = []
    sources: dict[str, None] = {}
    for row in rows:
        target = dest_fields[row.destination]
        transforms = [build_transform(spec) for spec in row.transforms]
        steps = tuple(t.compile(target, row.source) for t in transforms)
        extra = chain_sources(transforms)
        if row.source is not None:
            sources.setdefault(row.source)
        for name in extra:
            sources.setdefault(name)
        convert = column_converter(target)
        if row.source is None and not extra:
            constant = _evaluate_constant(row, steps, convert)
            compiled.append(_CompiledRow(row.destination, None, (), convert, constant, True))
        else:
            compiled.append(_CompiledRow(row.destination, row.source, steps, convert))
    return CompiledMapping(compiled, list(sources))


def _evaluate_constant(row: MappingRow, steps: Sequence[ColumnStep], convert: Any) -> Any:
    values: list[Any] = [None]
    failed: dict[int, str] = {}
    for step in steps:
        values = step(values, failed, _NoColumns())
    values = convert(values, failed)
    if failed:
        raise ConfigError(ConfigProblem("", None, f"row for '{row.destination}'", failed[0]))
    return values[0]
