"""What connections.yaml says about an OData service (Dataverse, F&O): endpoint, sign-in, TLS,
timeouts, the request budget, retries, paging and batching.

The one definition of these settings: the YAML is validated against these models, and the
connectors read their settings from them. A leaf module (pydantic and :mod:`integrator.secrets`
only): building clients from it is :mod:`.clients`' job. Secrets are never here, only where they
are (:class:`~integrator.secrets.SecretRef`).
"""

from __future__ import annotations

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from integrator.connectors.configuration import (
    Auth,
    ConnectionConfig,
    StrictModel,
    http_url_problem,
    insecure_url_problem,
)

__all__ = ["Auth", "Budget", "HttpConnection", "Retry", "Timeouts"]


class Timeouts(StrictModel):
    """How long to wait, in seconds, for a connection to open and for each answer."""

    connect_seconds: PositiveFloat = 10.0
    #: also the limit on sending a request body and on waiting for a pooled connection
    read_seconds: PositiveFloat = 120.0


class Budget(StrictModel):
    """The client-side request budget, shared by every connector that talks as one identity to
    one host: at most ``requests`` per ``window_seconds`` and ``concurrent`` in flight.
    The defaults are Dataverse's service protection limits (6000 per 5 minutes, 52 at once)."""

    requests: PositiveInt = 6000
    window_seconds: PositiveFloat = 300.0
    concurrent: PositiveInt = 52


class Retry(StrictModel):
    """How a request that failed transiently (429, 5xx, a dropped connection) is sent again:
    up to ``attempts`` sends, waiting up to ``base_delay_seconds * 2**n`` (at most
    ``max_delay_seconds``) after the n-th; a server's ``Retry-After`` wins."""

    attempts: PositiveInt = 8
    base_delay_seconds: float = Field(0.5, ge=0)
    max_delay_seconds: float = Field(30.0, ge=0)


class HttpConnection(ConnectionConfig):
    """One OData service: the settings every OData connector shares. Subclassed per ``kind``
    (which bounds ``page_size`` and adds its own options)."""

    #: the service root, e.g. ``https://contoso.crm.dynamics.com/api/data/v9.2/``
    url: str
    auth: Auth = Auth()
    #: verify the server's TLS certificate (``true``), not at all (``false``: never in
    #: production), or against the CA bundle at this path (relative to the workspace)
    verify: bool | str = True
    #: allow plain ``http://`` to a host that is not this machine (the token and the data
    #: cross the network unencrypted): only for a network you trust; loopback needs no leave
    allow_insecure_http: bool = False
    timeouts: Timeouts = Timeouts()
    budget: Budget = Budget()
    retry: Retry = Retry()
    #: records per page read
    page_size: PositiveInt = 5000
    #: records per write request (a ``$batch`` holds at most 1000 operations)
    batch_size: int = Field(1000, ge=1, le=1000)
    #: write requests sent at once
    parallel_batches: PositiveInt = 4
    #: keys per existence-read ``GET`` before writing (its ``$filter`` grows with each key)
    keys_per_read: PositiveInt = 250
    #: read the stored rows first, to skip unchanged records and send only changed fields
    skip_unchanged: bool = True
    #: after a read found none of a batch stored, send the next batches as create-only writes
    #: without reading first (an initial load costs one request per ``batch_size`` records)
    assume_new_after_empty_read: bool = True

    @field_validator("url")
    @classmethod
    def _absolute(cls, url: str) -> str:
        problem = http_url_problem(url)
        if problem is not None:
            raise ValueError(problem)
        return url

    @field_validator("verify")
    @classmethod
    def _bundle_named(cls, verify: bool | str) -> bool | str:
        if isinstance(verify, str) and not verify.strip():
            raise ValueError("verify is true, false, or the path of a CA bundle (PEM)")
        return verify

    @model_validator(mode="after")
    def _tls_off_loopback(self) -> HttpConnection:
        problem = insecure_url_problem(self.url, allowed=self.allow_insecure_http)
        if problem is not None:
            raise ValueError(problem)
        return self
