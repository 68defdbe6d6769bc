"""Authentication for the HTTP connectors: Azure AD client credentials, a static token, or none.

Secrets are held in :class:`Secret`, whose ``repr`` and ``str`` are masked, so a secret cannot
reach a log line, an exception message or the run history by accident. Tokens are added to each
request by an ``httpx.Auth``; the Azure AD token comes from msal, which caches it and hands out
a fresh one shortly before it expires.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Generator
from typing import Any, Protocol

import httpx

from integrator.connectors.http.unavailable import connection_failure
from integrator.errors import CredentialsRefused, SystemUnreachable

__all__ = [
    "ClientCredentialsAuth",
    "NoAuth",
    "Secret",
    "StaticTokenAuth",
    "TokenProvider",
]

_MASK = "********"


class Secret:
    """A secret value that never shows itself in ``repr``, ``str`` or formatting."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself; call only where it goes on the wire."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_MASK})"

    def __str__(self) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


class NoAuth(httpx.Auth):
    """Send requests without credentials (the sandbox)."""

    identity = "anonymous"

    def __repr__(self) -> str:
        return "NoAuth()"


class StaticTokenAuth(httpx.Auth):
    """Send a fixed bearer token (a sandbox, or a token obtained elsewhere)."""

    def __init__(self, token: Secret) -> None:
        self._token = token
        # The budget is per identity; a digest of the token names it without revealing it, the
        # same in every process (``hash()`` of a str is salted per process: budgets shared
        # through PostgreSQL would not meet).
        digest = hashlib.sha256(token.reveal().encode()).hexdigest()[:16]
        self.identity = f"token:{digest}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add ``Authorization: Bearer <token>`` and send."""
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request

    def __repr__(self) -> str:
        return f"StaticTokenAuth(token={self._token!r})"


class TokenProvider(Protocol):
    """What :class:`ClientCredentialsAuth` needs from msal's ``ConfidentialClientApplication``."""

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]: ...

    def remove_tokens_for_client(self) -> None: ...


class ClientCredentialsAuth(httpx.Auth):
    """Azure AD client credentials (an application user) through msal.

    The token is asked for scope ``<resource>/.default``. msal keeps it in its in-memory cache
    and returns the cached one until it is close to expiry, so each request costs no token call.
    A 401 answer drops the cached token and retries once with a new one. ``verify`` is the
    CA bundle msal checks Azure AD's certificate against (``True``: the system's); it is never
    turned off, even when the connection's ``verify`` is false, because the secret goes there.
    """

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: Secret,
        resource: str,
        authority_host: str = "https://login.microsoftonline.com",
        verify: bool | str = True,
        app_factory: Callable[[], TokenProvider] | None = None,
        instance_discovery: bool = True,
    ) -> None:
        self.tenant_id = tenant_id
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = [resource.rstrip("/") + "/.default"]
        self.authority = f"{authority_host.rstrip('/')}/{tenant_id}"
        self.identity = f"aad:{tenant_id}:{client_id}"
        #: how msal checks Azure AD's certificate: ``True`` (the system's CAs) or a CA bundle
        self.verify = verify
        #: msal checks an unknown authority with Microsoft first (off only in tests offline)
        self._instance_discovery = instance_discovery
        self._app_factory = app_factory or self._msal_app
        self._app: TokenProvider | None = None
        self._lock = threading.Lock()

    def _msal_app(self) -> TokenProvider:
        import msal

        app: TokenProvider = msal.ConfidentialClientApplication(
            self.client_id,
            client_credential=self._secret.reveal(),
            authority=self.authority,
            http_client=_bundle_session(self.verify) if isinstance(self.verify, str) else None,
            instance_discovery=self._instance_discovery,
        )
        return app

    def token(self) -> str:
        """A valid access token (cached by msal). Raises ``CredentialsRefused`` when Azure AD
        refuses the client (``invalid_client``, an unknown tenant) and ``SystemUnreachable``
        naming Azure AD when it cannot be reached."""
        try:
            with self._lock:
                if self._app is None:
                    self._app = self._app_factory()
                result = self._app.acquire_token_for_client(scopes=self.scopes)
        except OSError as exc:  # requests' ConnectionError, under msal, is an OSError
            found = connection_failure(exc, httpx.URL(self.authority).host)
            reason = found[0] if found else type(exc).__name__
            raise SystemUnreachable(
                f"no token for client {self.client_id}: {reason}",
                url=self.authority,
                system="Azure AD",
            ) from None
        except ValueError as exc:  # msal: the authority (tenant) is unknown
            said = (str(exc).splitlines() or [type(exc).__name__])[0]
            if self._secret.reveal() in said:
                said = type(exc).__name__
            raise CredentialsRefused(
                f"Azure AD ({self.authority}) gave no token for client {self.client_id}: {said}"
            ) from None
        token = result.get("access_token")
        if not isinstance(token, str):
            # msal's error fields never hold the secret; they say what Azure AD refused.
            error = result.get("error", "unknown_error")
            description = str(result.get("error_description", "")).splitlines()[:1]
            raise CredentialsRefused(
                f"Azure AD refused a token for client {self.client_id} in tenant "
                f"{self.tenant_id}: {error}" + (f": {description[0]}" if description else ""),
                code=str(error),
            )
        return token

    def _forget_token(self) -> None:
        with self._lock:
            if self._app is not None:
                self._app.remove_tokens_for_client()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the bearer token; on 401 refresh it once and resend."""
        request.headers["Authorization"] = f"Bearer {self.token()}"
        response = yield request
        if response.status_code == 401:
            self._forget_token()
            request.headers["Authorization"] = f"Bearer {self.token()}"
            yield request

    def __repr__(self) -> str:
        return (
            f"ClientCredentialsAuth(tenant_id={self.tenant_id!r}, client_id={self.client_id!r}, "
            f"client_secret={self._secret!r})"
        )


def _bundle_session(bundle: str) -> Any:
    """A requests session for msal that checks certificates against the CA ``bundle`` only.

    requests lets ``REQUESTS_CA_BUNDLE`` win over a session's own ``verify`` (psf/requests
    #3829), so the bundle is put back on each request; proxies still come from the
    environment. One retry of a failed connection, as msal's own session has."""
    import requests

    class BundleSession(requests.Session):
        def merge_environment_settings(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            merged: dict[str, Any] = super().merge_environment_settings(*args, **kwargs)
            merged["verify"] = bundle
            return merged

    session = BundleSession()
    session.verify = bundle
    session.mount("https://", requests.adapters.HTTPAdapter(max_retries=1))
    return session
