"""Open the HTTP connector a workspace connection names (Dataverse for Sales and CDS, F&O)."""

from __future__ import annotations

from pathlib import Path

import httpx

from integrator.config.models import Auth, Connection
from integrator.connectors.base import Connector
from integrator.connectors.dataverse import DataverseConfig, DataverseConnector
from integrator.connectors.finops import FinOpsConfig, FinOpsConnector
from integrator.connectors.http.auth import (
    ClientCredentialsAuth,
    NoAuth,
    Secret,
    StaticTokenAuth,
)
from integrator.errors import ConfigError

__all__ = ["open_http_connector"]


def open_http_connector(system: str, connection: Connection, workspace_root: Path) -> Connector:
    """A Dataverse or F&O connector for ``connection``; secrets are read now, from where the
    connection says they are (an environment variable or a file), and never stored."""
    auth = _auth(connection.auth, connection.url, workspace_root)
    sizes = {
        name: value
        for name in ("page_size", "batch_size", "parallel_batches")
        if (value := getattr(connection, name)) is not None
    }
    if connection.kind == "dataverse":
        dataverse = DataverseConfig(
            url=connection.url, bulk_messages=connection.bulk_messages, **sizes
        )
        return DataverseConnector(dataverse.client(auth=auth), dataverse.settings())
    if connection.kind == "finops":
        options = connection.finops.model_dump() if connection.finops else {}
        finops = FinOpsConfig(url=connection.url, **sizes, **options)
        return FinOpsConnector(
            finops.client(auth=auth),
            finops.settings(),
            cross_company=finops.cross_company,
            metadata_url=finops.metadata_url,
            string_lengths=finops.string_lengths,
        )
    raise ConfigError(f"{system}: connection kind {connection.kind!r} is not an HTTP connector")


def _auth(auth: Auth, url: str, root: Path) -> httpx.Auth:
    if auth.type == "none":
        return NoAuth()
    if auth.type == "token":
        assert auth.token is not None
        return StaticTokenAuth(Secret(auth.token.resolve(root).get_secret_value()))
    assert auth.client_secret is not None and auth.tenant_id and auth.client_id
    parsed = httpx.URL(url)
    resource = (
        auth.scope.removesuffix("/.default") if auth.scope else f"{parsed.scheme}://{parsed.host}"
    )
    return ClientCredentialsAuth(
        tenant_id=auth.tenant_id,
        client_id=auth.client_id,
        client_secret=Secret(auth.client_secret.resolve(root).get_secret_value()),
        resource=resource,
        authority_host=auth.authority or "https://login.microsoftonline.com",
    )
