"""Settings shared by the HTTP connectors: endpoint, authentication, limits, batching.

Secrets never appear here: the configuration names the environment variables that hold them.
"""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrator.connectors.http.auth import ClientCredentialsAuth, NoAuth, Secret, StaticTokenAuth
from integrator.connectors.http.budget import BudgetLimits, shared_budget
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.retry import RetryPolicy
from integrator.connectors.http.settings import BulkMessages, ConnectorSettings

__all__ = ["AuthConfig", "ODataConnectionConfig"]


class AuthConfig(BaseModel):
    """How to authenticate: ``none`` (a sandbox), ``token`` (a bearer token from an environment
    variable) or ``client_credentials`` (Azure AD application user, via msal)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["none", "token", "client_credentials"] = "none"
    token_env: str = "INTEGRATOR_TOKEN"
    tenant_id_env: str = "AZURE_TENANT_ID"
    client_id_env: str = "AZURE_CLIENT_ID"
    client_secret_env: str = "AZURE_CLIENT_SECRET"
    #: the resource the token is for; defaults to the service URL's scheme and host
    resource: str | None = None
    authority_host: str = "https://login.microsoftonline.com"

    def build(self, url: str) -> httpx.Auth:
        """The ``httpx.Auth`` for a service at ``url``; ``ConfigError`` when a variable is unset."""
        if self.mode == "none":
            return NoAuth()
        if self.mode == "token":
            return StaticTokenAuth(Secret.from_env(self.token_env))
        parsed = httpx.URL(url)
        resource = self.resource or f"{parsed.scheme}://{parsed.host}"
        auth = ClientCredentialsAuth.from_env(
            resource,
            tenant_variable=self.tenant_id_env,
            client_id_variable=self.client_id_env,
            secret_variable=self.client_secret_env,
        )
        if self.authority_host != "https://login.microsoftonline.com":
            auth.authority = f"{self.authority_host.rstrip('/')}/{auth.tenant_id}"
        return auth


class ODataConnectionConfig(BaseModel):
    """One OData service: its root URL, credentials, and how hard to use it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    auth: AuthConfig = AuthConfig()
    verify_tls: bool = True
    timeout_seconds: float = Field(120.0, gt=0)
    #: client-side request budget shared by every connector using the same identity and host
    max_requests: int = Field(6000, ge=1)
    window_seconds: float = Field(300.0, gt=0)
    max_concurrent: int = Field(52, ge=1)
    max_attempts: int = Field(8, ge=1)
    base_delay_seconds: float = Field(0.5, ge=0)
    max_delay_seconds: float = Field(30.0, ge=0)
    page_size: int = Field(5000, ge=1)
    batch_size: int = Field(1000, ge=1, le=1000)
    parallel_batches: int = Field(4, ge=1)
    keys_per_read: int = Field(250, ge=1)
    skip_unchanged: bool = True
    assume_new_after_empty_read: bool = True
    #: ``auto``: bulk messages (Dataverse ``UpsertMultiple``) where offered; ``never``: ``$batch``
    bulk_messages: BulkMessages = "auto"

    @field_validator("url")
    @classmethod
    def _absolute(cls, url: str) -> str:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"must be an http(s) URL of the service root, not {url!r}")
        return url if url.endswith("/") else url + "/"

    def settings(self) -> ConnectorSettings:
        """Paging and batching settings for the connector."""
        return ConnectorSettings(
            page_size=self.page_size,
            batch_size=self.batch_size,
            parallel_batches=self.parallel_batches,
            keys_per_read=self.keys_per_read,
            skip_unchanged=self.skip_unchanged,
            assume_new_after_empty_read=self.assume_new_after_empty_read,
            bulk_messages=self.bulk_messages,
        )

    def client(
        self, transport: httpx.BaseTransport | None = None, *, auth: httpx.Auth | None = None
    ) -> ODataClient:
        """A client for this service, sharing the request budget of its identity and host.

        ``auth`` replaces the authentication ``self.auth`` would build (the workspace resolves
        secrets from its own references)."""
        auth = auth or self.auth.build(self.url)
        limits = BudgetLimits(self.max_requests, self.window_seconds, self.max_concurrent)
        identity = str(getattr(auth, "identity", "anonymous"))
        return ODataClient(
            self.url,
            auth=auth,
            transport=transport,
            verify=self.verify_tls,
            timeout=self.timeout_seconds,
            budget=shared_budget(httpx.URL(self.url).netloc.decode(), identity, limits),
            retry=RetryPolicy(
                max_attempts=self.max_attempts,
                base_delay=self.base_delay_seconds,
                max_delay=self.max_delay_seconds,
            ),
            max_connections=self.max_concurrent,
        )
