"""An :class:`~integrator.connectors.http.client.ODataClient` for an
:class:`~integrator.connectors.http.connection.HttpConnection`: sign-in, TLS, timeouts, the
shared request budget and the retry policy, all as the connection says."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx

from integrator.connectors.configuration import Auth
from integrator.connectors.http.auth import ClientCredentialsAuth, NoAuth, Secret, StaticTokenAuth
from integrator.connectors.http.budget import Budget, BudgetLimits, place, shared_budget
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.connection import HttpConnection
from integrator.connectors.http.retry import RetryPolicy
from integrator.errors import ConfigError

__all__ = ["bundle_path", "odata_factory", "open_client", "sign_in", "tls_verification"]

_AZURE_AD = "https://login.microsoftonline.com"

Settings = TypeVar("Settings", bound=HttpConnection)
Opened = TypeVar("Opened")


def odata_factory(
    connector: Callable[[ODataClient, Settings], Opened],
) -> Callable[[Settings, Path | None], Opened]:
    """The registry's factory for an OData connector class: a connection (and the workspace
    folder its relative paths start from) → ``connector(its client, the connection)``."""

    def open_connector(connection: Settings, root: Path | None = None) -> Opened:
        return connector(open_client(connection, root), connection)

    return open_connector


def open_client(
    connection: HttpConnection,
    root: Path | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> ODataClient:
    """A client for ``connection``'s service, sharing the request budget of its identity and
    host; of a pool of identities (``auth.identities``), the one with the fewest connectors
    on it, then the most to spare now (:func:`place`).
    Secrets and the CA bundle are read now (relative paths from ``root``, the workspace folder);
    ``transport`` replaces the network (tests). Raises ``ConfigError``."""
    budget = connection.budget
    limits = BudgetLimits(budget.requests, budget.window_seconds, budget.concurrent)
    host = httpx.URL(connection.url).netloc.decode()
    auth, shared = _least_loaded_identity(connection, root, host, limits)
    timeouts = connection.timeouts
    return ODataClient(
        connection.url,
        auth=auth,
        transport=transport,
        verify=tls_verification(connection.verify, root),
        timeout=httpx.Timeout(timeouts.read_seconds, connect=timeouts.connect_seconds),
        budget=shared,
        retry=RetryPolicy(
            max_attempts=connection.retry.attempts,
            base_delay=connection.retry.base_delay_seconds,
            max_delay=connection.retry.max_delay_seconds,
        ),
        max_connections=budget.concurrent,
        allow_insecure_http=connection.allow_insecure_http,
        seated=True,
    )


def _least_loaded_identity(
    connection: HttpConnection, root: Path | None, host: str, limits: BudgetLimits
) -> tuple[httpx.Auth, Budget]:
    """The sign-in of the connection's identity (of its pool, ``auth.identities``, the one
    :func:`place` picks), and its budget, a seat taken on it (the client gives it back)."""
    signed = [
        sign_in(auth, connection.url, root, connection.verify) for auth in connection.auth.each()
    ]
    budgets = [
        shared_budget(host, str(getattr(auth, "identity", "anonymous")), limits) for auth in signed
    ]
    chosen = place(budgets)
    return signed[chosen], budgets[chosen]


def sign_in(
    auth: Auth, url: str, root: Path | None = None, verify: bool | str = True
) -> httpx.Auth:
    """The ``httpx.Auth`` that signs requests to the service at ``url`` as ``auth`` says; its
    secret is read now from where ``auth`` names it, and held masked. A CA bundle ``verify``
    (the connection's) is trusted for Azure AD too; ``verify: false`` is not: Azure AD's
    certificate is always checked."""
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
        authority_host=auth.authority or _AZURE_AD,
        verify=str(bundle_path(verify, root)) if isinstance(verify, str) else True,
    )


def bundle_path(verify: str, root: Path | None = None) -> Path:
    """The CA bundle a ``verify:`` path names (relative paths start at ``root``)."""
    path = Path(verify).expanduser()
    if not path.is_absolute() and root is not None:
        path = root / path
    return path


def tls_verification(verify: bool | str, root: Path | None = None) -> bool | ssl.SSLContext:
    """``verify`` as httpx takes it: a bool, or an SSL context trusting the CA bundle at the path
    (relative to ``root``). Raises ``ConfigError`` when the bundle cannot be read."""
    if isinstance(verify, bool):
        return verify
    path = bundle_path(verify, root)
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"verify: cannot use the CA bundle {path}: {reason}") from None
