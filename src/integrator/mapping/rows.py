"""Mapping rows as written in templates and projects: destination ← source, or ← a transform chain.

A row is data only; :func:`integrator.mapping.compile_mapping` turns a leg's rows into a
:class:`~integrator.mapping.CompiledMapping` once, checked against the destination's metadata.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["MapType", "MappingRow", "TransformSpec"]

MapType = Literal["=", "Fn"]


class TransformSpec(BaseModel):
    """One step of a transform chain: its registered ``type`` and that transform's parameters.

    Parameters are kept as given and checked against the transform registry when the mapping is
    compiled or validated, so an unknown transform is reported with the rest of the problems.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, data: Any) -> Any:
        # `- CountryRegionCode` is shorthand for `- {type: CountryRegionCode}`.
        if isinstance(data, str):
            return {"type": data}
        return data

    @property
    def params(self) -> dict[str, Any]:
        """The transform's parameters (every key but ``type``)."""
        return dict(self.model_extra or {})


class MappingRow(BaseModel):
    """destination field ← source field (``=``), or ← a chain of transforms (``Fn``).

    A row without ``source`` writes only what its transforms produce from nothing, normally a
    ``Default``. ``source`` may follow a lookup: ``parentcustomerid.accountnumber``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    destination: str = Field(min_length=1)
    source: str | None = None
    transforms: tuple[TransformSpec, ...] = ()

    @property
    def map_type(self) -> MapType:
        """``=`` for a direct copy, ``Fn`` when a transform chain is applied."""
        return "Fn" if self.transforms else "="
