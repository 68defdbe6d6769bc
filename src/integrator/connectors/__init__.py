"""Connectors: one protocol (:mod:`.base`), one sub-package per kind of system (``dataverse/``,
``finops/``, ``sql/``), each owning its connections.yaml schema (``config.py``) and registered
in :mod:`.registry`."""

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
