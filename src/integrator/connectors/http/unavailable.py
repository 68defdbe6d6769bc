"""When a system cannot be used at all: it cannot be reached, or it refuses the credentials.

These are told apart from the failures of one request (:mod:`.responses`) because nothing a
run does can succeed until someone fixes the network, the URL or the credentials: the command
line stops before anything runs and names the system and its URL (exit code 3).

- :func:`unreachable_reason`: why a connection could not be made, in plain words, and whether
  trying again soon can help (a refused connection can: the service may be restarting; a TLS
  certificate that is not trusted cannot);
- :func:`refusal`: the whole-response answers that mean "not with these credentials": 401, 403
  on a read, a redirect to a sign-in page;
- :func:`reading_metadata`: a service whose metadata cannot be read (a 5xx after every retry,
  an error, a body that is not OData) cannot be used either: that is the system failing, not
  an entity that does not exist nor a configuration problem.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from integrator.connectors.http.responses import odata_error
from integrator.errors import (
    BadResponseError,
    CredentialsRefused,
    RequestRejected,
    RetriableError,
    SystemFailing,
    SystemUnavailable,
    SystemUnreachable,
)

__all__ = [
    "certificate_not_trusted",
    "connection_failure",
    "reading_metadata",
    "refusal",
    "unreachable_reason",
]

#: hosts and path words of the sign-in pages a service redirects a browser to
_SIGN_IN_HOSTS = ("login.microsoftonline.com", "login.windows.net", "login.live.com")
_SIGN_IN_WORDS = ("login", "signin", "sign-in", "oauth2", "authorize", "adfs")


def unreachable_reason(
    error: httpx.TransportError, connect_timeout: float, host: str = "the server"
) -> tuple[str, bool]:
    """``(reason, worth_retrying)`` for a connection to ``host`` that could not be made."""
    if isinstance(error, httpx.TimeoutException):
        return f"no answer to connect within {connect_timeout:g} s", True
    return connection_failure(error, host) or (str(error) or type(error).__name__, True)


def connection_failure(error: BaseException, host: str) -> tuple[str, bool] | None:
    """``(reason, worth_retrying)`` when the chain of ``error`` (causes, contexts, and the
    ``reason`` urllib3 keeps, under requests and so msal) holds a failure to connect to
    ``host`` that can be put in plain words; ``None`` when it does not."""
    cause: BaseException | None = error
    seen: set[int] = set()
    whose = "its host name"
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        # urllib3 keeps the connection (or pool) it was opening: the host that failed
        attributes = getattr(cause, "__dict__", {})
        opening: Any = attributes.get("conn") or attributes.get("pool")
        if getattr(opening, "host", None):
            host = str(opening.host)
            whose = f"the host name {host}"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return certificate_not_trusted(host, cause), False
        if isinstance(cause, ssl.SSLError):
            return f"the TLS handshake with {host} failed ({cause.reason or cause})", False
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused (nothing listens there)", True
        if isinstance(cause, socket.gaierror):
            return f"{whose} was not found ({cause.strerror})", True
        if isinstance(cause, TimeoutError | socket.timeout):
            return f"no answer from {host} in time", True
        reason = getattr(cause, "reason", None)
        following = reason if isinstance(reason, BaseException) else None
        cause = following or cause.__cause__ or cause.__context__
    return None


def certificate_not_trusted(host: str, error: ssl.SSLCertVerificationError) -> str:
    """What to say when ``host``'s TLS certificate failed verification."""
    reason = error.verify_message or error.reason or str(error)
    return (
        f"the certificate of {host} is not trusted: {reason}; set verify: to the CA bundle "
        "(PEM) that signed it in connections.yaml, or install that CA in the system's store"
    )


def refusal(response: httpx.Response, service_url: str) -> SystemUnavailable | None:
    """The error a whole response means when the system will not let these credentials in
    (401; 403 to a read; a redirect to a sign-in page), or cannot be used at the URL given (any
    other redirect: integrator does not follow them); ``None`` for every other answer."""
    status = response.status_code
    method = response.request.method
    if status == 401 or (status == 403 and method == "GET"):
        code, message = odata_error(response.content)
        detail = f": {message}" if message else ""
        return CredentialsRefused(
            f"HTTP {status}{detail}", url=service_url, status=status, code=code
        )
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        target = response.request.url.join(location) if location else None
        if target is not None and _is_sign_in(target):
            return CredentialsRefused(
                f"it redirects to the sign-in page at {target.host}: a service account needs "
                "auth in connections.yaml (client_credentials or token), not a browser sign-in",
                url=service_url,
                status=status,
            )
        return SystemUnreachable(
            f"it answers HTTP {status}, a redirect to {location or 'nowhere'}; integrator does "
            "not follow redirects: put the URL of the service itself in connections.yaml",
            url=service_url,
        )
    return None


def _is_sign_in(url: httpx.URL) -> bool:
    host = url.host.lower()
    if host in _SIGN_IN_HOSTS or host.startswith("login."):
        return True
    path = url.path.lower()
    return any(word in path for word in _SIGN_IN_WORDS)


@contextmanager
def reading_metadata(service_url: str, attempts: int, *, rejected: bool = True) -> Iterator[None]:
    """Turn a failure to read the metadata of the service at ``service_url`` into
    ``SystemFailing``: a transient failure that outlasted ``attempts`` sends, a body that is
    not OData, and (when ``rejected``: the request names no entity, e.g. ``$metadata``) a
    refusal such as 404, which says the URL is not the service root. ``SystemUnavailable``
    passes unchanged."""
    check_url = "check that url in connections.yaml is the service root"
    try:
        yield
    except SystemUnavailable:
        raise
    except RetriableError as exc:
        status = str(exc.status) if exc.status else "a failure"
        raise SystemFailing(
            f"{status} to {attempts} attempts: {exc}; try again later, or ask its administrators",
            url=service_url,
            status=exc.status,
        ) from None
    except BadResponseError as exc:
        raise SystemFailing(
            f"something that is not OData: {exc}; {check_url}", url=service_url
        ) from None
    except RequestRejected as exc:
        if not rejected or exc.code == "unknown-entity":
            raise
        raise SystemFailing(
            f"{exc.status or 'an error'} to a metadata request: {exc}; {check_url}",
            url=service_url,
            status=exc.status,
        ) from None
