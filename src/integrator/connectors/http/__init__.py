"""The HTTP core shared by the OData connectors (Dataverse Web API, F&O OData).

- :class:`ODataClient`: pooled ``httpx`` client, request budget, retries, the one place where a
  status becomes an exception (:mod:`.responses`);
- :mod:`.batch`: ``$batch`` multipart bodies; :mod:`.keys`: escaped key segments and filters;
- :mod:`.auth`: Azure AD client credentials (msal), static token, none; secrets masked;
- :class:`HttpConnection`: what connections.yaml says about a service, and :func:`open_client`
  the client it makes;
- :class:`ODataConnector`: describe / read / upsert over any OData service, in the
  :class:`ServiceDialect` of that service.
"""

from integrator.connectors.http.auth import (
    ClientCredentialsAuth,
    NoAuth,
    Secret,
    StaticTokenAuth,
)
from integrator.connectors.http.batch import BatchOperation, BatchPart, decode_batch, encode_batch
from integrator.connectors.http.budget import BudgetLimits, RequestBudget, shared_budget
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.clients import open_client
from integrator.connectors.http.connection import Budget, HttpConnection, Retry, Timeouts
from integrator.connectors.http.connector import ODataConnector
from integrator.connectors.http.plans import WritePlan
from integrator.connectors.http.retry import RetryPolicy
from integrator.connectors.http.service import ODataService, ServiceDialect

__all__ = [
    "BatchOperation",
    "BatchPart",
    "Budget",
    "BudgetLimits",
    "ClientCredentialsAuth",
    "HttpConnection",
    "NoAuth",
    "ODataClient",
    "ODataConnector",
    "ODataService",
    "RequestBudget",
    "Retry",
    "RetryPolicy",
    "Secret",
    "ServiceDialect",
    "StaticTokenAuth",
    "Timeouts",
    "WritePlan",
    "decode_batch",
    "encode_batch",
    "open_client",
    "shared_budget",
]
