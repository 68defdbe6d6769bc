"""Connections as connections.yaml gives them: validated through the registry's union."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from integrator.connectors.registry import Connection

__all__ = ["connection"]

_CONNECTION: TypeAdapter[Connection] = TypeAdapter(Connection)


def connection(**yaml: Any) -> Connection:
    """The connection ``yaml`` (the keys of one connection in connections.yaml) describes;
    raises ``pydantic.ValidationError`` as loading the file would."""
    return _CONNECTION.validate_python(yaml)
