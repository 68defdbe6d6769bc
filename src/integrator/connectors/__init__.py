"""Connectors: one protocol, one sub-package per kind of system (dataverse/, finops/, sql/)."""

from integrator.connectors.base import (
    Capabilities,
    ChangeBatch,
    Connector,
    EntityInfo,
    FieldInfo,
    FieldType,
    Outcome,
    Record,
    RecordResult,
)

__all__ = [
    "Capabilities",
    "ChangeBatch",
    "Connector",
    "EntityInfo",
    "FieldInfo",
    "FieldType",
    "Outcome",
    "Record",
    "RecordResult",
]
