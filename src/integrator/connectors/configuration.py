"""What every connector's configuration shares: the base model of a connection, how one signs
in (:class:`Auth`), and the registration a connector package makes of its model and factory
(see :mod:`integrator.connectors.registry`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from integrator.secrets import SecretRef

if TYPE_CHECKING:
    from integrator.connectors.base import Connector

__all__ = [
    "Auth",
    "ConnectionConfig",
    "ConnectorKind",
    "PooledIdentity",
    "StrictModel",
    "http_url_problem",
    "insecure_url_problem",
    "is_loopback",
]


class StrictModel(BaseModel):
    """A configuration model: unknown keys are errors, and a loaded value never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PooledIdentity(StrictModel):
    """One more application user a connection may talk as (the pool of :attr:`Auth.identities`):
    a bearer ``token`` for auth type ``token``; a ``client_id`` and ``client_secret`` of the
    same tenant for ``client_credentials``."""

    token: SecretRef | None = None
    client_id: str | None = None
    client_secret: SecretRef | None = None


class Auth(StrictModel):
    """How integrator signs in to a system.

    ``none`` (the sandbox), ``token`` (a static bearer token), or ``client_credentials`` (an
    Azure AD app: ``tenant_id``, ``client_id`` and ``client_secret``).
    """

    type: Literal["none", "token", "client_credentials"] = "none"
    token: SecretRef | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretRef | None = None
    #: OAuth scope; defaults to ``<url origin>/.default``
    scope: str | None = None
    #: Azure AD's sign-in host; defaults to ``https://login.microsoftonline.com``
    authority: str | None = None
    #: more application users of the same system: each has a request budget of its own, and a
    #: connector talks as the one with the most to spare when it is opened
    identities: tuple[PooledIdentity, ...] = ()

    @field_validator("authority")
    @classmethod
    def _https_authority(cls, authority: str | None) -> str | None:
        # msal accepts only https authorities (and the secret travels there): refuse the rest
        # here, where the message can say which setting to fix, not as msal's traceback.
        if authority is None:
            return None
        parts = urlsplit(authority.strip())
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(
                f"authority {authority!r} is not an https:// URL with a host; Azure AD is "
                "reached over https only (e.g. 'https://login.microsoftonline.com')"
            )
        return authority

    @model_validator(mode="after")
    def _fields_match_type(self) -> Auth:
        needed = {
            "none": (),
            "token": ("token",),
            "client_credentials": ("tenant_id", "client_id", "client_secret"),
        }[self.type]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"auth type {self.type} needs {', '.join(missing)}")
        allowed = (
            {*needed, "type", "scope", "authority", "identities"}
            if self.type != "none"
            else {"type"}
        )
        extra = [name for name in self.model_fields_set if name not in allowed]
        if extra:
            raise ValueError(f"auth type {self.type} does not take {', '.join(sorted(extra))}")
        pooled = {"token": ("token",), "client_credentials": ("client_id", "client_secret")}
        for number, identity in enumerate(self.identities, start=1):
            given = identity.model_fields_set
            wanted = set(pooled.get(self.type, ()))
            if given != wanted:
                raise ValueError(
                    f"identities[{number}] of auth type {self.type} takes exactly "
                    f"{' and '.join(pooled[self.type])}"
                )
        names = [self.client_id, *(identity.client_id for identity in self.identities)]
        if self.type == "client_credentials" and len(set(names)) < len(names):
            raise ValueError("identities: each client_id may be listed once")
        return self

    def each(self) -> list[Auth]:
        """This sign-in, then one per pooled identity (as a single-identity ``Auth``)."""
        pool = [
            self.model_copy(
                update={
                    **{name: getattr(identity, name) for name in identity.model_fields_set},
                    "identities": (),
                }
            )
            for identity in self.identities
        ]
        return [self.model_copy(update={"identities": ()}), *pool]


class ConnectionConfig(StrictModel):
    """One connection of connections.yaml. Each connector subclasses it with its ``kind`` as a
    ``Literal`` (the YAML schema of that kind) and registers it with a :class:`ConnectorKind`."""

    kind: str
    url: str


Config = TypeVar("Config", bound=ConnectionConfig)


@dataclass(frozen=True)
class ConnectorKind(Generic[Config]):
    """A connector as the registry knows it: its configuration model and its factory, which
    opens a connector for a configuration, reading secrets now (files relative to the workspace
    folder given, else the current one) and raising ``ConfigError`` when one cannot be read."""

    model: type[Config]
    open: Callable[[Config, Path | None], Connector]

    @property
    def kind(self) -> str:
        """The ``kind`` connections.yaml names the connector by."""
        return str(self.model.model_fields["kind"].default)


def http_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as the address of an HTTP service, or ``None`` when it is an
    absolute ``http(s)://host[:port]/...`` URL (``127.0.0.1:8700`` alone is not: no scheme)."""
    text = url.strip()
    example = f"http://{text}" if text and "://" not in text else "https://host/"
    refused = f"{url!r} is not an http(s) URL with a host (write it as {example!r})"
    try:
        parts = urlsplit(text)
    except ValueError:
        return refused
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return refused
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is not None and not 0 < port < 65536:
        return f"{url!r} has a port that is not a number from 1 to 65535"
    return None


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: ``localhost``, ``127.0.0.0/8`` or ``::1``."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ip_address(name).is_loopback
    except ValueError:
        return False


def insecure_url_problem(url: str, *, allowed: bool = False) -> str | None:
    """Why ``url`` may not be used without TLS, or ``None``: plain ``http://`` is refused for
    any host but this machine unless ``allowed`` (the connection's ``allow_insecure_http``),
    because the bearer token and the data would cross the network readable by anyone on it."""
    parts = urlsplit(url.strip())
    if allowed or parts.scheme != "http" or is_loopback(parts.hostname or ""):
        return None
    return (
        f"{url!r} is plain http to {parts.hostname}, which is not this machine: the "
        "credentials and the data would cross the network unencrypted; use https://, or set "
        "allow_insecure_http: true on the connection if that network is trusted"
    )
