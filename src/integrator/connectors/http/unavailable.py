"""When a system cannot be used at all: it cannot be reached, or it refuses the credentials.

These are told apart from the failures of one request (:mod:`.responses`) because nothing a
run does can succeed until someone fixes the network, the URL or the credentials: the command
line stops before anything runs and names the system and its URL (exit code 3).

- :func:`unreachable_reason`: why a connection could not be made, in plain words, and whether
  trying again soon can help (a refused connection can: the service may be restarting; a TLS
  certificate that is not trusted cannot);
- :func:`refusal`: the whole-response answers that mean "not with these credentials": 401, 403
  on a read, a redirect to a sign-in page.
"""

from __future__ import annotations

import socket
import ssl

import httpx

from integrator.connectors.http.responses import odata_error
from integrator.errors import CredentialsRefused, SystemUnavailable, SystemUnreachable

__all__ = ["refusal", "unreachable_reason"]

#: hosts and path words of the sign-in pages a service redirects a browser to
_SIGN_IN_HOSTS = ("login.microsoftonline.com", "login.windows.net", "login.live.com")
_SIGN_IN_WORDS = ("login", "signin", "sign-in", "oauth2", "authorize", "adfs")


def unreachable_reason(error: httpx.TransportError, connect_timeout: float) -> tuple[str, bool]:
    """``(reason, worth_retrying)`` for a connection that could not be made."""
    if isinstance(error, httpx.TimeoutException):
        return f"no answer to connect within {connect_timeout:g} s", True
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"its TLS certificate is not trusted ({cause.verify_message})", False
        if isinstance(cause, ssl.SSLError):
            return f"the TLS handshake failed ({cause.reason or cause})", False
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused (nothing listens there)", True
        if isinstance(cause, socket.gaierror):
            return f"its host name was not found ({cause.strerror})", True
        cause = cause.__cause__ or cause.__context__
    return str(error) or type(error).__name__, True


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
        target = httpx.URL(location) if location else None
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
