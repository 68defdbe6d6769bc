"""The transform registry: each transform is a typed parameter model that compiles to a column step.

A compiled step works on a whole column at once: it takes the column's values (one per record in
the batch), the per-record failures found so far, and the batch's source columns, and returns the
new column. Failures are ``{record index: message}``; a step that cannot produce a value records a
failure and leaves ``None``. A later ``Default`` replaces failures as well as blanks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from integrator.connectors.base import FieldInfo
from integrator.mapping.rows import TransformSpec

__all__ = [
    "ColumnStep",
    "SourceColumns",
    "Transform",
    "TransformError",
    "build_transform",
    "is_blank",
    "register",
    "registered_transforms",
    "transform_names",
]


class SourceColumns(Protocol):
    """Access to the batch's source columns, extracted once per field."""

    def column(self, name: str) -> list[Any]:
        """The values of source field ``name``, one per record (``None`` when absent)."""
        ...


ColumnStep = Callable[[list[Any], dict[int, str], SourceColumns], list[Any]]


class TransformError(ValueError):
    """A transform is unknown or its parameters are wrong."""


def is_blank(value: Any) -> bool:
    """True for ``None`` and for strings holding only whitespace."""
    return value is None or (value.__class__ is str and not value.strip())


class Transform(BaseModel):
    """Base of every transform: a frozen parameter model with a ``compile`` method."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the name a mapping row uses in ``type:``
    type_name: ClassVar[str]
    #: one step of a ``transforms:`` list using it, as YAML (``integrator transforms`` shows it;
    #: a test builds every example through the registry)
    example: ClassVar[str]

    def source_fields(self) -> tuple[str, ...]:
        """Other source fields this transform reads besides the row's own source."""
        return ()

    def constant_values(self) -> tuple[Any, ...]:
        """Values this transform may write as they are (defaults, map targets); checked early."""
        return ()

    def compile(self, target: FieldInfo, source: str | None) -> ColumnStep:
        """Return the column step writing into ``target`` from row source ``source``."""
        raise NotImplementedError


_REGISTRY: dict[str, type[Transform]] = {}

T = TypeVar("T", bound=type[Transform])


def register(cls: T) -> T:
    """Class decorator adding a transform to the registry under its ``type_name``."""
    _REGISTRY[cls.type_name.casefold()] = cls
    return cls


def transform_names() -> list[str]:
    """The registered transform names, sorted."""
    return sorted(cls.type_name for cls in _REGISTRY.values())


def registered_transforms() -> list[type[Transform]]:
    """The registered transform classes, sorted by name (see :mod:`integrator.mapping.catalog`)."""
    return sorted(_REGISTRY.values(), key=lambda cls: cls.type_name)


def build_transform(spec: TransformSpec) -> Transform:
    """Instantiate the registered transform ``spec`` names with its parameters.

    Raises :class:`TransformError` naming the transform and what is wrong with it.
    """
    cls = _REGISTRY.get(spec.type.casefold())
    if cls is None:
        raise TransformError(
            f"unknown transform '{spec.type}' (known: {', '.join(transform_names())})"
        )
    try:
        return cls.model_validate(spec.params)
    except ValidationError as exc:
        raise TransformError(f"{cls.type_name}: {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    parts: list[str] = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def chain_sources(transforms: Sequence[Transform]) -> tuple[str, ...]:
    """Every extra source field a chain reads, in order, without repeats."""
    seen: dict[str, None] = {}
    for t in transforms:
        for name in t.source_fields():
            seen.setdefault(name)
    return tuple(seen)
