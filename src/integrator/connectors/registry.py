"""Every kind of connector connections.yaml can name, and how one is opened.

Each connector package owns its configuration model (the YAML schema of its ``kind``, a
:class:`~integrator.connectors.configuration.ConnectionConfig`) and its factory, and says so in
its ``KIND`` (a :class:`~integrator.connectors.configuration.ConnectorKind`). :data:`REGISTERED`
lists them; :data:`Connection` is the union of their models, told apart by ``kind``. A new
connector is a package, one line in :data:`REGISTERED`, and one conformance target in
``tests/connectors/conformance/targets/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, Union

from pydantic import Discriminator, Tag

from integrator.connectors import dataverse, finops, sql
from integrator.connectors.base import Connector
from integrator.connectors.configuration import ConnectionConfig, ConnectorKind

__all__ = ["KINDS", "REGISTERED", "Connection", "open_connection"]

REGISTERED: tuple[ConnectorKind[Any], ...] = (
    dataverse.KIND,
    finops.KIND,
    sql.KIND,
)

#: the ``kind`` values connections.yaml accepts
KINDS: tuple[str, ...] = tuple(registered.kind for registered in REGISTERED)
_BY_KIND = {registered.kind: registered for registered in REGISTERED}


def _tag(value: Any) -> str | None:
    # A member is tagged by its model's class name, not by its kind: pydantic puts the tag in
    # each error's location, where the YAML problem reporting skips a class name (a kind such
    # as ``sql`` could be taken for the option key of the same name).
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    registered = _BY_KIND.get(kind) if isinstance(kind, str) else None
    return registered.model.__name__ if registered else None


if TYPE_CHECKING:
    #: for the type checker, any connector's configuration (narrow it with ``isinstance``)
    Connection: TypeAlias = ConnectionConfig
else:
    #: one connection of connections.yaml: the model of the connector its ``kind`` names
    Connection = Annotated[
        Union[  # noqa: UP007 (a union built from a tuple)
            tuple(Annotated[r.model, Tag(r.model.__name__)] for r in REGISTERED)
        ],
        Discriminator(
            _tag,
            custom_error_type="connection_kind",
            custom_error_message=f"a connection needs a kind: {', '.join(KINDS)}",
        ),
    ]


def open_connection(connection: ConnectionConfig, root: Path | None = None) -> Connector:
    """The connector ``connection`` configures, by its kind's registered factory; secrets are
    read now (files relative to ``root``, the workspace folder). Raises ``ConfigError`` when
    one cannot be read."""
    registered = _BY_KIND.get(connection.kind)
    if registered is None or not isinstance(connection, registered.model):
        raise TypeError(f"{type(connection).__name__} is not a registered connection model")
    return registered.open(connection, root)
