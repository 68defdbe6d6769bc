"""Connectors for a workspace's connection set, opened once per engine and shared by its runs."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import make_url

from integrator.config.models import ConnectionSet
from integrator.config.workspace import Workspace
from integrator.connectors.base import Connector
from integrator.connectors.http.budget import share_budgets_through
from integrator.connectors.registry import Connection, open_connection
from integrator.errors import ConfigError

__all__ = [
    "ConnectorFactory",
    "ConnectorPool",
    "budget_database_url",
    "history_url",
    "open_connector",
]

ConnectorFactory = Callable[[str, Connection, Workspace], Connector]


def open_connector(system: str, connection: Connection, workspace: Workspace) -> Connector:
    """The connector ``connection`` configures (any kind the registry lists), for ``system``;
    secrets are read now, from where the connection names them (files relative to the
    workspace). Raises ``ConfigError`` when one cannot be read. HTTP connectors share their
    request budgets through the history database when :func:`budget_database_url` says so."""
    share_budgets_through(budget_database_url(workspace))
    return open_connection(connection, workspace.root)


def budget_database_url(workspace: Workspace) -> str | None:
    """The database the workspace's request budgets are kept in, shared by every worker: its
    history database when that is PostgreSQL and distributed mode is on; ``None`` (budgets in
    this process) otherwise."""
    if not workspace.settings.distributed:
        return None
    if make_url(workspace.history_database_url).get_backend_name() != "postgresql":
        return None
    return history_url(workspace)


class ConnectorPool:
    """The connectors of one connection set, by system name (``sales``, ``cds``, ``finops``)."""

    def __init__(
        self,
        workspace: Workspace,
        connection_set: str = "default",
        factory: ConnectorFactory = open_connector,
    ) -> None:
        self.workspace = workspace
        self.connection_set_name = connection_set
        self.factory = factory
        self._open: dict[str, Connector] = {}

    @property
    def connection_set(self) -> ConnectionSet:
        """The connection set this pool serves."""
        return self.workspace.connection_set(self.connection_set_name)

    def get(self, system: str) -> Connector:
        """The connector for ``system``, opened on first use."""
        if system not in self._open:
            connection = self.connection_set.connection(system)  # type: ignore[arg-type]
            if connection is None:
                raise ConfigError(
                    f'connection set "{self.connection_set_name}" has no {system} connection'
                )
            self._open[system] = self.factory(system, connection, self.workspace)
        return self._open[system]

    def close(self) -> None:
        """Close every opened connector."""
        for connector in self._open.values():
            connector.close()
        self._open.clear()


def history_url(workspace: Workspace) -> str:
    """The history database URL, with its password (from the environment or a file) filled in."""
    url = workspace.history_database_url
    secret = workspace.settings.history.database_password
    if secret is None:
        return url
    password = secret.resolve(workspace.root).get_secret_value()
    return make_url(url).set(password=password).render_as_string(hide_password=False)
