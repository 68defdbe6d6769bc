"""Mapping: transforms compiled once per leg and applied to whole batches.

A leg's rows (:class:`MappingRow`) compile with :func:`compile_mapping` into a
:class:`CompiledMapping`; ``apply(batch)`` returns the mapped records and a :class:`FieldError`
for each record that could not be mapped (that record is left out).
"""

from integrator.mapping import country as _country  # noqa: F401  (registers CountryRegionCode)
from integrator.mapping import transforms as _transforms  # noqa: F401  (registers the rest)
from integrator.mapping.compile import (
    CompiledMapping,
    FieldError,
    MappedBatch,
    RowProblem,
    check_rows,
    compile_mapping,
)
from integrator.mapping.convert import can_convert, convert_value
from integrator.mapping.country import resolve_country
from integrator.mapping.registry import (
    Transform,
    TransformError,
    build_transform,
    register,
    transform_names,
)
from integrator.mapping.rows import MappingRow, MapType, TransformSpec

__all__ = [
    "CompiledMapping",
    "FieldError",
    "MapType",
    "MappedBatch",
    "MappingRow",
    "RowProblem",
    "Transform",
    "TransformError",
    "TransformSpec",
    "build_transform",
    "can_convert",
    "check_rows",
    "compile_mapping",
    "convert_value",
    "register",
    "resolve_country",
    "transform_names",
]
