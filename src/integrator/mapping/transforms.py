"""The general transforms: Default, ValueMap, Truncate, Concatenate, Upper, Lower, Trim,
Substring, Split and DateFormat. CountryRegionCode lives in :mod:`integrator.mapping.country`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field, PrivateAttr, field_validator, model_validator

from integrator.connectors.base import FieldInfo
from integrator.mapping.registry import (
    ColumnStep,
    SourceColumns,
    Transform,
    is_blank,
    register,
)
from integrator.mapping.valuefiles import ValueFileError, load_value_file

__all__ = [
    "Concatenate",
    "DateFormat",
    "Default",
    "Lower",
    "Split",
    "Substring",
    "Trim",
    "Truncate",
    "TruncateStep",
    "Upper",
    "ValueMap",
    "value_key",
]

Scalar = str | int | float | bool


def value_key(value: Any) -> str:
    """How ValueMap compares values: trimmed, case-folded text (``1``, ``1.0``, ``"1"`` meet)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().casefold()


@register
class Default(Transform):
    """The template value: written when the value so far is blank, absent or failed."""

    type_name: ClassVar[str] = "Default"
    example: ClassVar[str] = "{type: Default, value: USA}"
    value: Scalar = Field(description="the template value")

    def constant_values(self) -> tuple[Any, ...]:
        return (self.value,)

    def compile(self, target: FieldInfo, source: str | None) -> ColumnStep:
        default = self.value

        def step(values: list[Any], failed: dict[int, str], cols: SourceColumns) -> list[Any]:
            out = [
                default if v is None or (v.__class__ is str and not v.strip()) else v
                for v in values
            ]
            for i in failed:
                out[i] = default
            failed.clear()
            return out

        return step


@register
class ValueMap(Transform):
    """Source value → destination value, compared case-insensitively as text.

    ``default`` is written for values not in the map and for blanks; a map entry with an empty
    key (``"": X``) is written for blanks only. Without a default an unmatched value fails the
    record, naming the value. A big map goes in a CSV file instead of ``map``: ``file:
    maps/countries.csv`` (relative to the workspace folder, header ``source,destination``).
    """

    type_name: ClassVar[str] = "ValueMap"
    example: ClassVar[str] = (
        "{type: ValueMap, map: {'1': DecisionMaker, '2': Employee, '3': Influencer}, "
        "default: Employee}"
    )
    map: dict[str, Scalar] | None = Field(
        default=None,
        min_length=1,
        description="source value → destination value ('': the value for blanks); this or file",
    )
    file: str | None = Field(
        default=None,
        min_length=1,
        description="or: a CSV file of the map (columns source,destination, with that header), "
        "relative to the workspace folder: maps/countries.csv",
    )
    default: Scalar | None = Field(
        default=None, description="written for unmatched values and blanks; none: they fail"
    )
    _table: dict[str, Scalar] = PrivateAttr(default_factory=dict)

    @field_validator("map", mode="before")
    @classmethod
    def _keys_as_text(cls, raw: Any) -> Any:
        if isinstance(raw, dict):
            return {("" if k is None else value_key(k)): v for k, v in raw.items()}
        return raw

    @model_validator(mode="after")
    def _one_source_of_entries(self) -> ValueMap:
        if (self.map is None) == (self.file is None):
            raise ValueError(
                "give 'map' (the entries) or 'file' (a CSV file of them), one of the two"
            )
        if self.file is not None:
            try:
                entries: dict[str, Scalar] = dict(load_value_file(self.file, value_key))
            except ValueFileError as exc:
                raise ValueError(str(exc)) from None
        else:
            entries = dict(self.map or {})
        self._table = entries
        return self

    def constant_values(self) -> tuple[Any, ...]:
        values = tuple(dict.fromkeys(self._table.values()))
        return values if self.default is None else (*values, self.default)

    def compile(self, target: FieldInfo, source: str | None) -> ColumnStep:
        table = dict(self._table)
        blank_value = table.pop("", self.default)
        default = self.default
        known = _known_values(table, self.file)
        missing = object()

        def step(values: list[Any], failed: dict[int, str], cols: SourceColumns) -> list[Any]:
            resolved: dict[Any, Any] = {}
            for v in set(values):
                if is_blank(v):
                    resolved[v] = blank_value
                else:
                    hit = table.get(value_key(v), missing)
                    resolved[v] = default if hit is missing and default is not None else hit
            out = [resolved[v] for v in values]
            if any(r is missing for r in resolved.values()):
                for i, r in enumerate(out):
                    if r is missing:
                        failed.setdefault(
                            i, f"{values[i]!r} from {source} is not in the value map ({known})"
                        )
                        out[i] = None
            return out

        return step


def _known_values(table: dict[str, Scalar], file: str | None) -> str:
    """The map's source values for a failure message: all of a short map, a sample of a long one."""
    keys = sorted(table)
    if len(keys) <= 12:
        return ", ".join(keys)
    where = f" in {file}" if file else ""
    return f"{', '.join(keys[:10])}, ... {len(keys)} values{where}"


@register
class Truncate(Transform):
    """Cut text to the destination field's length (or to ``length`` when given)."""

    type_name: ClassVar[str] = "Truncate"
    example: ClassVar[str] = "{type: Truncate, length: 60}"
    length: int | None = Field(
        default=None, gt=0, description="characters kept; none: the destination field's length"
    )

    def compile(self, target: FieldInfo, source: str | None) -> ColumnStep:
        limit = self.length or target.max_length
        if limit is None:
            return _identity

        return TruncateStep(limit)


class TruncateStep:
    """Truncate's column step; :class:`~integrator.mapping.compile.CompiledMapping` asks it
    which values it shortens, so a run can say how many were cut per field."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def shortened(self, values: list[Any]) -> list[tuple[int, int]]:
        """``(index, length)`` of each value longer than the limit (the ones it cuts)."""
        limit = self.limit
        return [(i, len(v)) for i, v in enumerate(values) if v.__class__ is str and len(v) > limit]

    def __call__(self, values: list[Any], failed: dict[int, str], cols: SourceColumns) -> list[Any]:
        """The values, each text cut to the limit."""
        limit = self.limit
        return [v[:limit] if v.__class__ is str and len(v) > limit else v for v in values]


@register
class Concatenate(Transform):
    """Join the value with other source fields' values, skipping blanks."""

    type_name: ClassVar[str] = "Concatenate"
    example: ClassVar[str] = "{type: Concatenate, fields: [middlename, lastname], separator: ' '}"
    fields: list[str] = Field(min_length=1, description="source fields appended, in order")
    separator: str = Field(default=" ", description="written between the non-blank parts")

    def source_fields(self) -> tuple[str, ...]:
        return tuple(self.fields)

    def compile(self, target: FieldInfo, source: str | None) -> ColumnStep:
        names = list(self.fields)
        sep = self.separator

        def step(values: list[Any], failed: dict[int, str], cols: SourceColumns) -> list[Any]:
            columns = [values, *(cols.column(n) for n in names)]
            out: list[Any] = []
            for parts in zip(*columns, strict=True):
                text = sep.join(str(p).strip() for p in parts if not is_blank(p))
                out.append(text or None)
            return out

        return step


def _text_step(fn: Any) -> ColumnStep:
    def step(values: list[Any], failed: dict[int, str], cols: SourceColumns) -> list[Any]:
        return [fn(v) if v.__class__ is str else v for v in values]

    return step


def _identity(values: list[Any], failed: dict[int, str], cols: SourceColumns) -> list[Any]:
    return values


@register
class Upper(Transform):
    """Upper-case text."""

    type_name: ClassVar[str] = "Upper"
    example: ClassVar[str] = "Upper"

    def compile(self, target: FieldInfo, source: str | None) -> ColumnStep:
        return _text_step(str.upper)


@register
class Lower(Transform):
    """Lower-case text."""

    type_name: ClassVar[str] = "Lower"
    example: ClassVar[str] = "Lower"

    def compile(self, target: FieldInfo, source: str | None) -> ColumnStep:
        return _text_step(str.lower)


@register
class Trim(Transform):
    """Strip leading and trailing whitespace."""

    type_name: ClassVar[str] = "Trim"
    example: ClassVar[str] = "Trim"

    def compile(self, target: FieldInfo, source: str | None) -> ColumnStep:
        return _text_step(str.strip)


@register
class Substring(Transform):
    """Characters ``start`` (0-based) up to ``start + length`` of the text."""

    type_name: ClassVar[str] = "Substring"
    example: ClassVar[str] = "{type: Substring, start: 0, length: 10}"
    start: int = Field(default=0, ge=0, description="first character kept, 0-based")
    length: int | None = Field(default=None, gt=0, description="characters kept; none: to the end")

    def compile(self, target: FieldInfo, source: str | None) -> ColumnStep:
        start = self.start
        end = None if self.length is None else start + self.length
        return _text_step(lambda v: v[start:end] or None)


@register
class Split(Transform):
    """Part ``index`` (0-based; negative counts from the end) of the text split on ``separator``.

    A value with fewer parts becomes blank.
    """

    type_name: ClassVar[str] = "Split"
    example: ClassVar[str] = "{type: Split, separator: ' ', index: -1}"
    separator: str = Field(min_length=1, description="the text between parts")
    index: int = Field(default=0, description="the part kept, 0-based; -1: the last")

    def compile(self, target: FieldInfo, source: str | None) -> ColumnStep:
        sep, index = self.separator, self.index

        def part(v: str) -> str | None:
            parts = v.split(sep)
            try:
                return parts[index].strip() or None
            except IndexError:
                return None

        return _text_step(part)


@register
class DateFormat(Transform):
    """Rewrite a date/time: parse ISO 8601 (or ``input_format``), write it with ``format``."""

    type_name: ClassVar[str] = "DateFormat"
    example: ClassVar[str] = "{type: DateFormat, format: '%Y-%m-%d'}"
    format: str = Field(min_length=1, description="strftime format written, e.g. '%d.%m.%Y'")
    input_format: str | None = Field(
        default=None, description="strptime format read; none: ISO 8601"
    )

    def compile(self, target: FieldInfo, source: str | None) -> ColumnStep:
        out_format, in_format = self.format, self.input_format

        def parse(text: str) -> datetime:
            if in_format:
                return datetime.strptime(text.strip(), in_format)
            return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))

        def step(values: list[Any], failed: dict[int, str], cols: SourceColumns) -> list[Any]:
            cache: dict[str, str | None] = {}
            out: list[Any] = []
            for i, v in enumerate(values):
                if v.__class__ is not str or not v.strip():
                    out.append(v)
                    continue
                if v not in cache:
                    try:
                        cache[v] = parse(v).strftime(out_format)
                    except ValueError:
                        cache[v] = None
                result = cache[v]
                if result is None:
                    expected = in_format or "ISO 8601"
                    failed.setdefault(i, f"{v!r} from {source} is not a date ({expected})")
                out.append(result)
            return out

        return step
